"""Weights made elsewhere: PyTorch checkpoints and safetensors files, without PyTorch.

    from minitorch_cv import formats
    state_dict = formats.load_torch("resnet18-f37072fd.pth")     # torch.save's files
    state_dict = formats.load_safetensors("model.safetensors")
    formats.save_safetensors(model.state_dict(), "model.safetensors")

``mt.load`` recognises both formats by their first bytes and calls these readers, so
``mt.load("resnet18.pth")`` works too; ``models.get_model(name, weights=path)`` builds
a model and loads such a file into it.

torch_pickle.py       the restricted unpickler: tensor rebuilds and containers, nothing else
torch_checkpoint.py   torch.save's ZIP archive and its legacy (pre-1.6) pickle sequence
safetensors.py        the safetensors layout: read and write
numeric.py            bfloat16 -> float32

Nothing read from a file runs code: a PyTorch pickle that names anything outside the
table of torch_pickle.py is refused with ``CheckpointError`` before anything is called.
Tensors arrive on the CPU (PyTorch's saved device is ignored), bfloat16 as float32.
"""
import contextlib
import os
import tempfile

from ..serialization import CheckpointError
from . import safetensors, torch_checkpoint

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def _opened(f):
    """(binary file, name for messages) for a path or an open binary file object."""
    if hasattr(f, "read"):
        yield f, getattr(f, "name", None) or f"<{type(f).__name__}>"
        return
    path = os.fspath(f)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no file at {path}")
    with open(path, "rb") as file:
        yield file, path


def load_torch(f):
    """The object that ``torch.save`` wrote to ``f`` (a path or a binary, seekable file),
    tensors as minitorch_cv Tensors on the CPU."""
    with _opened(f) as (file, name):
        return torch_checkpoint.read(file, name)


def load_safetensors(f):
    """The tensors of the safetensors file ``f`` as an OrderedDict {name: Tensor}."""
    with _opened(f) as (file, name):
        return safetensors.read(file, name)


def safetensors_metadata(f):
    """The ``__metadata__`` strings of the safetensors file ``f``."""
    with _opened(f) as (file, name):
        return safetensors.read_metadata(file, name)


def save_safetensors(tensors, f, metadata=None):
    """Write ``tensors`` ({name: Tensor or NumPy array}, e.g. a state_dict) to ``f`` as
    safetensors: a path (written atomically) or a binary file object."""
    arrays = {key: _host_array(value, key) for key, value in tensors.items()} \
        if isinstance(tensors, dict) else tensors
    payload = safetensors.encode(arrays, metadata)
    if hasattr(f, "write"):
        f.write(payload)
        return
    _write_atomic(os.fspath(f), payload)


def _write_atomic(path, payload):
    """A temporary file beside ``path``, fsync'ed, then renamed over it: a crash leaves
    the old file or the new one, never a partial one."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                         suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _host_array(value, key):
    from .. import device as _device
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        value = value.detach().array
    return _device.to_device(value, _device.CPU)


__all__ = ["CheckpointError", "load_safetensors", "load_torch", "safetensors_metadata",
           "save_safetensors"]
