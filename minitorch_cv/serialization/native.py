"""minitorch_cv's checkpoint format: a ZIP archive readable without this library (a .npz).

    structure.json   the object tree, with every array replaced by a reference node
                     (format name and version included)
    arrays/i.npy     array i in NumPy's .npy format (dtype and shape exact)
    pickles/k.pkl    only for objects that are not plain data (see pickled.py)

The tree's nodes. JSON's own values stand for themselves (None, bools, strings,
numbers, lists); everything else is a dict with one marker key:

    {"__tensor__": i, "requires_grad": b, "device": "gpu", "parameter": b}
    {"__ndarray__": i}  {"__npscalar__": i}         NumPy arrays and scalars
    {"__tuple__": [...]}  {"__size__": [...]}        tuples, minitorch_cv.Size
    {"__dict__": [[key, value], ...], "type": "dict" | "OrderedDict"}   (any key type)
    {"__int__": "123..."}  {"__float__": "nan"}      ints beyond 2**53, non-finite floats
    {"__dtype__": "float32"}  {"__device__": "gpu", "index": i}
    {"__pickle__": k, "class": "module.Name"}       a pickled object (pickles/k.pkl)

Arrays are written and read with ``allow_pickle=False`` and the structure is JSON, so
reading the plain data cannot run code. Every member carries a CRC-32 that is checked
on reading. "device" is absent for CPU tensors (and in files of earlier versions).
"""
import io
import json
import math
import pickle
import zipfile
from collections import OrderedDict

import numpy as np

from .. import devices, dtypes
from ..size import Size
from ..tensor import Tensor
from . import pickled
from .errors import UnsafeCheckpointError
from .readers import is_zip, register_reader, zip_names

FORMAT_NAME = "minitorch_cv-checkpoint"
FORMAT_VERSION = 1
_STRUCTURE = "structure.json"
_LARGEST_EXACT_JSON_INT = 2**53  # beyond this, other JSON readers lose precision


# --------------------------------------------------------------------- saving
class Encoded:
    """An object encoded in memory: the JSON structure, the arrays, the pickles."""

    def __init__(self, structure, arrays, pickles):
        self.structure = structure
        self.arrays = arrays
        self.pickles = pickles


class _Encoder:
    """Turns the object tree into JSON-able data, collecting arrays and pickles on the side."""

    def __init__(self, pickle_protocol):
        self.arrays = []
        self.pickles = []
        self.pickle_protocol = pickle_protocol

    def add_array(self, array):
        """Store ``array`` (copied to the host); its index in ``arrays/``."""
        self.arrays.append(devices.to_device(array, devices.CPU))
        return len(self.arrays) - 1

    def encode(self, obj, where):
        # device before str (a device is a str); bool before int (bool is an int)
        if isinstance(obj, devices.device):
            return {"__device__": str.__str__(obj), "index": obj.index}
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
            return self._tensor(obj)
        if isinstance(obj, dtypes.dtype):
            return {"__dtype__": obj.numpy.name}
        if isinstance(obj, np.generic):
            return {"__npscalar__": self._plain_array(np.asarray(obj), where)}
        if isinstance(obj, np.ndarray) or devices.device_of_array(obj) != devices.CPU:
            return {"__ndarray__": self._plain_array(obj, where)}
        if isinstance(obj, Size):
            return {"__size__": list(obj)}
        # Subclasses of the containers are stored as the container (a namedtuple as a
        # tuple, a defaultdict as a dict), as in earlier versions of the format.
        if isinstance(obj, (tuple, list)):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            return items if isinstance(obj, list) else {"__tuple__": items}
        if isinstance(obj, dict):
            items = [
                [self.encode(k, f"{where} key {k!r}"), self.encode(v, f"{where}[{k!r}]")]
                for k, v in obj.items()
            ]
            kind = "OrderedDict" if isinstance(obj, OrderedDict) else "dict"
            return {"__dict__": items, "type": kind}
        return self._pickled(obj, where)

    def _tensor(self, tensor):
        node = {"__tensor__": self.add_array(tensor.array), "requires_grad": tensor.requires_grad}
        if tensor.device != devices.CPU:
            node["device"] = str.__str__(tensor.device)
        if type(tensor) is not Tensor and _is_parameter(tensor):
            node["parameter"] = True
        return node

    def _plain_array(self, array, where):
        if array.dtype.hasobject:
            raise TypeError(
                f"save: the array at {where} has dtype object, which cannot be stored "
                "without pickle; store its items instead"
            )
        return self.add_array(array)

    def _pickled(self, obj, where):
        """Any other object: pickled, its tensors and arrays still stored as .npy."""
        try:
            payload = pickled.dumps(obj, self.add_array, self.pickle_protocol)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            raise TypeError(
                f"save: cannot store an object of type {type(obj).__name__} at {where}: it "
                f"is not plain data and pickling it failed ({error})"
            ) from None
        self.pickles.append(payload)
        kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
        return {"__pickle__": len(self.pickles) - 1, "class": kind}


def _is_parameter(tensor):
    from ..nn.parameter import Parameter  # nn sits above this layer

    return isinstance(tensor, Parameter)


def encode(obj, pickle_protocol=pickled.DEFAULT_PROTOCOL):
    """Encode ``obj`` in memory (raises TypeError naming what cannot be stored)."""
    encoder = _Encoder(pickle_protocol)
    structure = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "object": encoder.encode(obj, "obj"),
    }
    return Encoded(structure, encoder.arrays, encoder.pickles)


def write(file, encoded):
    """Write an ``Encoded`` object as a ZIP archive to the binary ``file``."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(_STRUCTURE, json.dumps(encoded.structure, allow_nan=False))
        for index, array in enumerate(encoded.arrays):
            _write_member(archive, f"arrays/{index}.npy", array)
        for index, payload in enumerate(encoded.pickles):
            archive.writestr(f"pickles/{index}.pkl", payload)


def _write_member(archive, name, array):
    with archive.open(name, "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)


# -------------------------------------------------------------------- loading
class _Decoder:
    def __init__(self, source, archive, arrays, placement, weights_only):
        self.source = source
        self.archive = archive
        self.arrays = arrays
        self.placement = placement
        self.weights_only = weights_only

    def _array(self, index):
        if not isinstance(index, int) or not 0 <= index < len(self.arrays):
            raise self.source.fail(f"is corrupt: it refers to a missing array {index!r}")
        return self.arrays[index]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise self.source.fail(f"is corrupt: unexpected entry {node!r}")
        if "__tensor__" in node:
            return self._tensor(node)
        if "__ndarray__" in node:
            return self._array(node["__ndarray__"])
        if "__npscalar__" in node:
            return self._array(node["__npscalar__"])[()]
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__size__" in node:
            return Size(node["__size__"])
        if "__int__" in node:
            return int(node["__int__"])
        if "__float__" in node:
            return float(node["__float__"])
        if "__dtype__" in node:
            return dtypes.of(dtypes.resolve(node["__dtype__"]))
        if "__device__" in node:
            return devices.device(node["__device__"], node.get("index"))
        if "__dict__" in node:
            result = OrderedDict() if node.get("type") == "OrderedDict" else {}
            for key, value in node["__dict__"]:
                result[self.decode(key)] = self.decode(value)
            return result
        if "__pickle__" in node:
            return self._unpickle(node)
        raise self.source.fail(f"is corrupt: unknown entry with keys {sorted(node)}")

    def _tensor(self, node):
        array = self.placement.place(self._array(node["__tensor__"]), node.get("device", "cpu"))
        if node.get("parameter"):
            from ..nn.parameter import Parameter

            return Parameter(array, requires_grad=bool(node.get("requires_grad")))
        tensor = Tensor(array)
        if node.get("requires_grad") and tensor.is_floating_point():
            tensor.requires_grad = True
        return tensor

    def _unpickle(self, node):
        name = f"pickles/{node['__pickle__']}.pkl"
        try:
            payload = self.archive.read(name)
        except KeyError:
            raise self.source.fail(f"is corrupt: it refers to a missing member {name}") from None
        return pickled.loads(payload, self.arrays, self.placement)


def _pickled_objects(node, where="obj"):
    """(where, class name) of every pickled object in the structure, without decoding."""
    if isinstance(node, list):
        return [found for i, v in enumerate(node) for found in _pickled_objects(v, f"{where}[{i}]")]
    if not isinstance(node, dict):
        return []
    if "__pickle__" in node:
        return [(where, node.get("class", "?"))]
    if "__tuple__" in node:
        return _pickled_objects(node["__tuple__"], where)
    found = []
    items = node.get("__dict__")
    for pair in items if isinstance(items, list) else []:
        if isinstance(pair, list) and len(pair) == 2:
            found += _pickled_objects(pair[0], f"{where} key")
            found += _pickled_objects(pair[1], f"{where}[{pair[0]!r}]")
    return found


class NativeReader:
    """Reads the format above (registered first with ``readers``)."""

    name = "minitorch_cv checkpoint"

    def claims(self, source):
        if not is_zip(source):
            return False
        names = zip_names(source)
        return names is not None and _STRUCTURE in names

    def read(self, source, placement, weights_only=True):
        try:
            with zipfile.ZipFile(source.file) as archive:
                structure = json.loads(archive.read(_STRUCTURE).decode("utf-8"))
                _check_header(source, structure)
                pickles = _pickled_objects(structure["object"])
                if pickles and weights_only:
                    raise _refusal(source, pickles)
                arrays = [_read_array(archive, index) for index in range(_count_arrays(archive))]
                decoder = _Decoder(source, archive, arrays, placement, weights_only)
                return decoder.decode(structure["object"])
        except (UnsafeCheckpointError, FileNotFoundError, RuntimeError):
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, ValueError,
                UnicodeDecodeError, OSError) as error:
            raise source.fail(
                f"is truncated or corrupt and cannot be read ({type(error).__name__}: {error})"
            ) from error


def _read_array(archive, index):
    # archive.read checks the member's CRC-32 against its bytes.
    data = archive.read(f"arrays/{index}.npy")
    return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)


def _refusal(source, pickles):
    listed = ", ".join(f"{kind} at {where}" for where, kind in pickles[:5])
    more = f" and {len(pickles) - 5} more" if len(pickles) > 5 else ""
    return UnsafeCheckpointError(
        f"load: {source.name} holds pickled Python objects ({listed}{more}), and "
        "weights_only=True loads plain data only. Unpickling runs code from the file: "
        "pass weights_only=False only if you trust where it came from (or save "
        "model.state_dict() instead of the model)."
    )


def _check_header(source, structure):
    if not isinstance(structure, dict) or structure.get("format") != FORMAT_NAME:
        raise source.fail("is not a minitorch_cv checkpoint (unknown format)")
    if structure.get("version") != FORMAT_VERSION:
        raise source.fail(
            f"has checkpoint format version {structure.get('version')!r}; "
            f"this minitorch_cv reads version {FORMAT_VERSION}"
        )
    if "object" not in structure:
        raise source.fail("is corrupt: the structure has no object")


def _count_arrays(archive):
    names = set(archive.namelist())
    count = 0
    while f"arrays/{count}.npy" in names:
        count += 1
    return count


register_reader(NativeReader())
