"""The safetensors format (Hugging Face): named tensors as raw bytes behind a JSON header.

    8 bytes         N, the header's length (unsigned, little-endian)
    N bytes         a JSON object, UTF-8, padded with spaces to a multiple of 8:
                      {"__metadata__": {"format": "pt"},               (optional, str -> str)
                       "conv1.weight": {"dtype": "F32", "shape": [64, 3, 7, 7],
                                        "data_offsets": [begin, end]}, ...}
    the data        every tensor's bytes, C order, little-endian, at [begin, end) of this
                    buffer; the tensors tile it exactly, without gaps or overlaps

Nothing in the file is executable: the header is JSON and the rest is numbers, which is
why the format exists. Reading still checks everything before allocating: N against the
file's length (and a 100 MB cap, the reference library's), the dtypes, shapes of
non-negative ints, ``end - begin == prod(shape) * itemsize``, and offsets that tile the
data exactly; any failure is a ``CheckpointError`` naming the file.

We write and read the format ourselves rather than depend on the ``safetensors``
package: the format is the page above; the package's NumPy interface cannot represent
BF16 (NumPy has no bfloat16), which many published weights use and which we widen to
float32 exactly (numeric.py); and our writer goes through the same atomic file
replacement as every checkpoint. Our files are byte-for-byte those of the reference
writer (same tensor order: by dtype, widest first, then by name; same compact JSON and
padding), which tests/formats checks against files the reference library wrote.
"""
import json
import math
from collections import OrderedDict

import numpy as np

from ..serialization.errors import CheckpointError
from .numeric import TENSOR_DTYPES, bfloat16_to_float32

# The dtypes, in the reference writer's order (it lays out wider types first).
DTYPES = OrderedDict([
    ("U64", "uint64"), ("I64", "int64"), ("F64", "float64"), ("F32", "float32"),
    ("U32", "uint32"), ("I32", "int32"), ("BF16", "bfloat16"), ("F16", "float16"),
    ("U16", "uint16"), ("I16", "int16"), ("I8", "int8"), ("U8", "uint8"), ("BOOL", "bool"),
])
_CODES = {np.dtype(name): code for code, name in DTYPES.items() if name != "bfloat16"}
_ORDER = {code: rank for rank, code in enumerate(DTYPES)}
MAX_HEADER_BYTES = 100_000_000
METADATA_KEY = "__metadata__"


def looks_like_safetensors(head):
    """Whether the first bytes ``head`` (at least 9) start a safetensors file: a header
    length, then the JSON object's opening brace."""
    return len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") >= 2


# --------------------------------------------------------------------- reading
def read(file, name, make_tensor=None):
    """The tensors of the safetensors ``file`` (binary, seekable) as an OrderedDict in
    the header's order; each becomes ``make_tensor(array, "cpu", False)`` (a CPU Tensor
    when None). The ``__metadata__`` strings are ``read_metadata``'s."""
    header, data_start, data_length = _read_header(file, name)
    entries = _check_entries(header, name, data_length)
    if make_tensor is None:
        from .torch_checkpoint import default_make_tensor as make_tensor
    result = OrderedDict()
    for key, (dtype, shape, begin, end) in entries.items():
        file.seek(data_start + begin)
        raw = file.read(end - begin)
        if len(raw) != end - begin:
            raise _fail(name, f"is truncated: tensor {key!r} is cut off")
        result[key] = make_tensor(_array(raw, dtype, shape), "cpu", False)
    return result


def read_metadata(file, name):
    """The file's ``__metadata__`` (a dict of strings; empty when absent)."""
    header, _, _ = _read_header(file, name)
    metadata = header.get(METADATA_KEY) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise _fail(name, "is corrupt: __metadata__ must map strings to strings")
    return dict(metadata)


def _fail(name, problem):
    return CheckpointError(f"load: {name} {problem}")


def _read_header(file, name):
    size = file.seek(0, 2)
    file.seek(0)
    prefix = file.read(8)
    if len(prefix) != 8:
        raise _fail(name, "is truncated: not even the 8-byte header length is there")
    length = int.from_bytes(prefix, "little")
    if length > MAX_HEADER_BYTES or 8 + length > size:
        raise _fail(name, f"is truncated or corrupt: its header claims {length} bytes, "
                          f"the file has {size - 8} after the length")
    try:
        header = json.loads(file.read(length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise _fail(name, f"is corrupt: its header is not JSON ({error})") from None
    if not isinstance(header, dict):
        raise _fail(name, "is corrupt: its header is not a JSON object")
    return header, 8 + length, size - 8 - length


def _check_entries(header, name, data_length):
    """{key: (dtype code, shape, begin, end)} after checking every field and that the
    tensors tile the data exactly."""
    entries = OrderedDict()
    for key, entry in header.items():
        if key == METADATA_KEY:
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise _fail(name, f"is corrupt: entry {key!r} is not {{dtype, shape, data_offsets}}")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if DTYPES.get(dtype) not in TENSOR_DTYPES:
            readable = ", ".join(code for code, kind in DTYPES.items() if kind in TENSOR_DTYPES)
            raise _fail(name, f"has tensor {key!r} of dtype {dtype!r}, which minitorch_cv "
                              f"tensors cannot hold; readable dtypes: {readable}")
        if not isinstance(shape, list) or not all(_natural(n) for n in shape):
            raise _fail(name, f"is corrupt: tensor {key!r} has shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_natural, offsets))
                and offsets[0] <= offsets[1]):
            raise _fail(name, f"is corrupt: tensor {key!r} has data_offsets {offsets!r}")
        itemsize = 2 if dtype == "BF16" else np.dtype(DTYPES[dtype]).itemsize
        if offsets[1] - offsets[0] != math.prod(shape) * itemsize:
            raise _fail(name, f"is corrupt: tensor {key!r} of shape {shape} and dtype {dtype} "
                              f"has {offsets[1] - offsets[0]} bytes")
        entries[key] = (dtype, tuple(shape), offsets[0], offsets[1])
    position = 0
    for key, (_, _, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if begin != position:
            raise _fail(name, f"is corrupt: tensor {key!r} starts at byte {begin} of the data, "
                              f"expected {position} (gap or overlap)")
        position = end
    if position != data_length:
        raise _fail(name, f"is truncated or corrupt: the tensors take {position} bytes, the "
                          f"file holds {data_length} after the header")
    return entries


def _natural(value):
    return type(value) is int and value >= 0


def _array(raw, dtype, shape):
    if dtype == "BF16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint16)
        return bfloat16_to_float32(bits).reshape(shape)
    little = np.dtype(DTYPES[dtype]).newbyteorder("<")
    return np.frombuffer(raw, dtype=little).astype(little.newbyteorder("=")).reshape(shape)


# --------------------------------------------------------------------- writing
def encode(tensors, metadata=None):
    """The bytes of a safetensors file holding ``tensors`` ({name: NumPy array}) and
    ``metadata`` ({str: str} or None)."""
    if not isinstance(tensors, dict):
        raise TypeError(f"save: safetensors holds a dict of named tensors, got {type(tensors).__name__}")
    arrays = {}
    for key, array in tensors.items():
        if not isinstance(key, str):
            raise TypeError(f"save: safetensors names tensors with strings, got the key {key!r}")
        if key == METADATA_KEY:
            raise ValueError(f"save: {METADATA_KEY!r} is reserved in safetensors files")
        array = np.asarray(array)
        if array.dtype.newbyteorder("=") not in _CODES:
            raise TypeError(f"save: tensor {key!r} has dtype {array.dtype}, which safetensors "
                            f"cannot hold (it holds {', '.join(sorted(map(str, _CODES)))})")
        arrays[key] = np.array(array, dtype=array.dtype.newbyteorder("<"), order="C")
    order = sorted(arrays, key=lambda k: (_ORDER[_CODES[arrays[k].dtype.newbyteorder("=")]], k))
    header = OrderedDict()
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: safetensors metadata must be a dict of strings to strings")
        header[METADATA_KEY] = metadata
    position = 0
    for key in order:
        array = arrays[key]
        header[key] = {"dtype": _CODES[array.dtype.newbyteorder("=")], "shape": list(array.shape),
                       "data_offsets": [position, position + array.nbytes]}
        position += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return b"".join([len(text).to_bytes(8, "little"), text] + [arrays[k].tobytes() for k in order])
