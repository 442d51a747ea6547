"""Weights made elsewhere: PyTorch checkpoints and safetensors files, without PyTorch.

    from minitorch_cv import formats
    state_dict = formats.load_torch("resnet18-f37072fd.pth")     # torch.save's files
    state_dict = formats.load_safetensors("model.safetensors")
    formats.save_safetensors(model.state_dict(), "model.safetensors")

``mt.load`` recognises both formats by their first bytes and calls these readers, so
``mt.load("resnet18.pth")`` works too; ``models.get_model(name, weights=path)`` builds
a model and loads such a file into it.

torch_pickle.py       the restricted unpickler: tensor rebuilds and containers, nothing else
torch_tensors.py      the unpickled tree -> tensors cut from their storages, plain containers
torch_checkpoint.py   torch.save's ZIP archive and its legacy (pre-1.6) pickle sequence
safetensors.py        the safetensors layout: read and write
numeric.py            bfloat16 -> float32

Nothing read from a file runs code: a PyTorch pickle that names anything outside the
table of torch_pickle.py is refused with ``CheckpointError`` before anything is called.
Tensors arrive on the CPU (PyTorch's saved device is ignored), bfloat16 as float32.
"""
import os

from ..serialization.errors import CheckpointError
from ..serialization.files import atomic_write, open_source
from . import safetensors, torch_checkpoint


def load_torch(f):
    """The object that ``torch.save`` wrote to ``f`` (a path or a binary, seekable file),
    tensors as minitorch_cv Tensors on the CPU."""
    with open_source(f) as source:
        return torch_checkpoint.read(source.file, source.name)


def load_safetensors(f):
    """The tensors of the safetensors file ``f`` as an OrderedDict {name: Tensor}."""
    with open_source(f) as source:
        return safetensors.read(source.file, source.name)


def safetensors_metadata(f):
    """The ``__metadata__`` strings of the safetensors file ``f``."""
    with open_source(f) as source:
        return safetensors.read_metadata(source.file, source.name)


def save_safetensors(tensors, f, metadata=None):
    """Write ``tensors`` ({name: Tensor or NumPy array}, e.g. a state_dict) to ``f`` as
    safetensors: a path (written atomically) or a binary file object."""
    arrays = {key: _host_array(value) for key, value in tensors.items()} \
        if isinstance(tensors, dict) else tensors
    payload = safetensors.encode(arrays, metadata)
    if hasattr(f, "write"):
        f.write(payload)
        return
    with atomic_write(os.fspath(f)) as file:
        file.write(payload)


def _host_array(value):
    from .. import devices
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        value = value.detach().array
    return devices.to_device(value, devices.CPU)


__all__ = ["CheckpointError", "load_safetensors", "load_torch", "safetensors_metadata",
           "save_safetensors"]
