"""Checkpoints: ``save(obj, path)`` and ``load(path, map_location=None)``.

What can be saved: nested dicts (any key of the types below), lists and tuples of
Tensors, NumPy arrays and scalars, Python numbers, strings, bools and None; that covers
model, optimizer and scheduler state_dicts, the epoch and ``get_rng_state()``.

The file format is a ZIP archive readable without this library (it is a valid .npz):

    structure.json   the object tree, with every array replaced by {"__tensor__": i},
                     {"__ndarray__": i}, ... (format name and version included)
    arrays/i.npy     array i in NumPy's .npy format (dtype and shape exact)

Nothing is pickled: arrays are read with ``allow_pickle=False`` and the structure is
JSON, so loading an untrusted checkpoint cannot run code. Every member carries a CRC-32
that is checked on reading, and a file that is truncated, corrupt or not a checkpoint
raises ``CheckpointError`` naming the path and the problem.

Writing is atomic: the archive goes to a temporary file in the target's directory,
is flushed and fsync'ed, and only then renamed over the target (``os.replace``). A
crash or kill at any moment leaves either the old checkpoint or the new one, never a
partial file at ``path``.
"""
import io
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from . import devices as _device
from .tensor import Tensor

FORMAT_NAME = "minitorch_cv-checkpoint"
FORMAT_VERSION = 1
_STRUCTURE = "structure.json"
_LARGEST_EXACT_JSON_INT = 2**53  # beyond this, other JSON readers lose precision

# The process umask, read once (os.umask can only be read by setting it): the temporary
# file is created private (0600) and gets the permissions a plain open() would give.
_UMASK = os.umask(0)
os.umask(_UMASK)


class CheckpointError(RuntimeError):
    """A checkpoint file is truncated, corrupt, or not a minitorch_cv checkpoint."""


# --------------------------------------------------------------------- saving
class _Encoder:
    """Turns the object tree into JSON-able data, collecting the arrays on the side."""

    def __init__(self):
        self.arrays = []

    def _array(self, kind, array, extra=None):
        self.arrays.append(_device.to_device(array, _device.CPU))
        node = {kind: len(self.arrays) - 1}
        node.update(extra or {})
        return node

    def encode(self, obj, where):
        # bool before int: bool is a subclass of int
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            if abs(obj) > _LARGEST_EXACT_JSON_INT:
                return {"__int__": str(obj)}
            return obj
        if isinstance(obj, float):
            if math.isfinite(obj):
                return obj
            return {"__float__": repr(obj)}  # 'nan', 'inf', '-inf'
        if isinstance(obj, Tensor):
            return self._array("__tensor__", obj.array, {"requires_grad": obj.requires_grad})
        if isinstance(obj, np.generic):
            return self._array("__npscalar__", np.asarray(obj))
        if isinstance(obj, np.ndarray) or _device.device_of_array(obj) != _device.CPU:
            return self._array("__ndarray__", obj)
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            items = [
                [self.encode(k, f"{where} key {k!r}"), self.encode(v, f"{where}[{k!r}]")]
                for k, v in obj.items()
            ]
            kind = "OrderedDict" if isinstance(obj, OrderedDict) else "dict"
            return {"__dict__": items, "type": kind}
        raise TypeError(
            f"save: cannot store an object of type {type(obj).__name__} at {where}; "
            "checkpoints hold Tensors, NumPy arrays, numbers, strings, bools, None and "
            "dicts/lists/tuples of them"
        )


def save(obj, path):
    """Write ``obj`` to ``path`` atomically (see the module docstring)."""
    path = os.fspath(path)
    encoder = _Encoder()
    structure = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "object": encoder.encode(obj, "obj"),
    }
    for index, array in enumerate(encoder.arrays):
        if array.dtype.hasobject:
            raise TypeError(
                f"save: array {index} has dtype object, which cannot be stored without pickle"
            )

    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(
        prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory
    )
    try:
        os.chmod(temporary, 0o666 & ~_UMASK)
        with os.fdopen(handle, "wb") as file:
            _write_archive(file, structure, encoder.arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        # Any failure (including KeyboardInterrupt) leaves the old checkpoint alone.
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


def _write_archive(file, structure, arrays):
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(_STRUCTURE, json.dumps(structure, allow_nan=False))
        for index, array in enumerate(arrays):
            _write_member(archive, f"arrays/{index}.npy", array)


def _write_member(archive, name, array):
    with archive.open(name, "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -------------------------------------------------------------------- loading
class _Decoder:
    def __init__(self, path, arrays, device):
        self.path = path
        self.arrays = arrays
        self.device = device

    def _array(self, index):
        if not isinstance(index, int) or not 0 <= index < len(self.arrays):
            raise CheckpointError(
                f"load: {self.path} is corrupt: it refers to a missing array {index!r}"
            )
        return self.arrays[index]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise CheckpointError(f"load: {self.path} is corrupt: unexpected entry {node!r}")
        if "__tensor__" in node:
            array = _device.to_device(self._array(node["__tensor__"]), self.device)
            tensor = Tensor(array)
            if node.get("requires_grad") and tensor.is_floating_point():
                tensor.requires_grad = True
            return tensor
        if "__ndarray__" in node:
            return self._array(node["__ndarray__"])
        if "__npscalar__" in node:
            return self._array(node["__npscalar__"])[()]
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__int__" in node:
            return int(node["__int__"])
        if "__float__" in node:
            return float(node["__float__"])
        if "__dict__" in node:
            result = OrderedDict() if node.get("type") == "OrderedDict" else {}
            for key, value in node["__dict__"]:
                result[self.decode(key)] = self.decode(value)
            return result
        raise CheckpointError(f"load: {self.path} is corrupt: unknown entry with keys {sorted(node)}")


def load(path, map_location=None):
    """Read a checkpoint written by ``save``. Tensors are placed on ``map_location``
    ("cpu" when None, or "gpu"); NumPy arrays stay NumPy arrays; dtypes are exact."""
    path = os.fspath(path)
    device = _device.normalize(map_location)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path}")
    try:
        with zipfile.ZipFile(path, "r") as archive:
            names = set(archive.namelist())
            if _STRUCTURE not in names:
                raise CheckpointError(
                    f"load: {path} is not a minitorch_cv checkpoint (no {_STRUCTURE} inside)"
                )
            structure = json.loads(archive.read(_STRUCTURE).decode("utf-8"))
            _check_header(path, structure)
            arrays = []
            for index in range(_count_arrays(names)):
                # archive.read checks the member's CRC-32 against its bytes.
                data = archive.read(f"arrays/{index}.npy")
                arrays.append(np.lib.format.read_array(io.BytesIO(data), allow_pickle=False))
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, ValueError,
            UnicodeDecodeError, OSError) as error:
        raise CheckpointError(
            f"load: {path} is truncated or corrupt and cannot be read "
            f"({type(error).__name__}: {error})"
        ) from error
    return _Decoder(path, arrays, device).decode(structure["object"])


def _check_header(path, structure):
    if not isinstance(structure, dict) or structure.get("format") != FORMAT_NAME:
        raise CheckpointError(f"load: {path} is not a minitorch_cv checkpoint (unknown format)")
    if structure.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"load: {path} has checkpoint format version {structure.get('version')!r}; "
            f"this minitorch_cv reads version {FORMAT_VERSION}"
        )
    if "object" not in structure:
        raise CheckpointError(f"load: {path} is corrupt: the structure has no object")


def _count_arrays(names):
    count = 0
    while f"arrays/{count}.npy" in names:
        count += 1
    return count
