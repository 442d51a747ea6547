"""Checkpoints: ``save(obj, f)`` and ``load(f, map_location=None, weights_only=True)``.

    mt.save({"model": model.state_dict(), "epoch": 3}, "ck.mtc")   # a path, or
    mt.save(obj, buffer)                                            # a binary file object
    state = mt.load("ck.mtc", map_location="cpu")

What is saved. Plain data (Tensors, NumPy arrays and scalars, Python numbers, strings,
bools, None, dtypes, devices, Sizes, and dicts/OrderedDicts/lists/tuples of them) is
stored as data: JSON for the tree, NumPy's .npy for every array (``native.py`` describes
the file, a valid .npz). That covers model, optimizer and scheduler state_dicts, the
epoch and ``get_rng_state()``. Any other object found in the tree (a whole Module, a
custom class) is pickled, its tensors still going into .npy members (``pickled.py``).

Loading and safety. ``weights_only=True`` (the default, as in PyTorch) reads the plain
data and nothing else: no pickle is ever opened, so a hostile checkpoint cannot run code;
a file holding pickled objects is refused with ``UnsafeCheckpointError`` naming where.
``weights_only=False`` also unpickles those objects, which RUNS CODE FROM THE FILE: use
it only for files you trust. A truncated, corrupt or foreign file raises
``CheckpointError`` naming the file and the problem.

Where tensors go (``map_location``, ``placement.py``): None puts each tensor back on the
device it was saved from (as PyTorch); a device ("cpu", "gpu", "cuda", an
``mt.device``) puts all there; a dict maps saved devices to devices; a callable
``f(storage, location)`` decides per tensor. NumPy arrays stay NumPy arrays.

Files (``files.py``). A path is written atomically: a temporary file beside it, flushed
and fsync'ed, then renamed over the target, so a crash leaves the old checkpoint or the
new one, never a partial file. A file object is written in place from its position
(atomicity is then the caller's).

Formats (``readers.py``). ``load`` identifies the file and hands it to the first
registered reader that claims it: this project's format (``native.py``), PyTorch's
checkpoints and safetensors files (``foreign.py``, parsing in ``minitorch_cv/formats``:
``torch.save``'s files are read through an unpickler that accepts tensor rebuilds and
containers only, so they run no code either). ``save`` writes safetensors for a path
ending in ``.safetensors``.
"""
import os

from . import native, pickled
from . import foreign  # noqa: F401, I001 - registers its readers after the native one
from .errors import CheckpointError, UnsafeCheckpointError
from .files import atomic_write, open_source
from .native import FORMAT_NAME, FORMAT_VERSION
from .placement import Placement
from .readers import find_reader, register_reader

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "CheckpointError",
    "Placement",
    "UnsafeCheckpointError",
    "load",
    "register_reader",
    "save",
]


def save(obj, f, pickle_protocol=pickled.DEFAULT_PROTOCOL):
    """Write ``obj`` to ``f``: a path (written atomically) or a binary file object.

    Everything is encoded in memory first, so an object that cannot be stored raises
    ``TypeError`` naming where it sits (``obj['sched']['fn'][0]``) before any file is
    touched. ``pickle_protocol`` is used for the objects that are not plain data.
    A path ending in ``.safetensors`` gets that format instead (a flat dict of named
    tensors, such as a state_dict; ``formats/safetensors.py``).
    """
    if not hasattr(f, "write") and os.fspath(f).endswith(".safetensors"):
        from ..formats import save_safetensors

        save_safetensors(obj, f)
        return
    encoded = native.encode(obj, pickle_protocol)
    if hasattr(f, "write"):
        native.write(f, encoded)
        return
    with atomic_write(os.fspath(f)) as file:
        native.write(file, encoded)


def load(f, map_location=None, *, weights_only=True):
    """Read a checkpoint from ``f`` (a path or a binary file object).

    map_location: None (each tensor on the device it was saved from), a device, a dict
    {saved device: device} or a callable ``f(storage, location)`` (see ``placement.py``).
    weights_only: True reads plain data only and never unpickles anything. False also
    unpickles whole objects (Modules, custom classes): this RUNS CODE FROM THE FILE, so
    use it only for checkpoints you trust.
    """
    placement = Placement(map_location)
    with open_source(f) as source:
        reader = find_reader(source)
        return reader.read(source, placement, weights_only=bool(weights_only))
