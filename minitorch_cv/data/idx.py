"""The IDX file format of MNIST and Fashion-MNIST (LeCun et al.), parsed and validated.

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64 (multi-byte types big-endian)
    byte  3     number of dimensions D
    then D big-endian uint32 sizes, then prod(sizes) elements, row-major.

So MNIST's image file starts 00 00 08 03 | 60000 | 28 | 28 (magic 2051) and its label
file 00 00 08 01 | 60000 (magic 2049). ``parse_idx`` checks every part of that and
raises ``DatasetCorruptError`` naming what is wrong: a bad magic number, an unknown
type, a header cut short, fewer or more data bytes than the sizes promise.
``read_idx`` also undoes gzip (the official files are ``.gz``), reporting a truncated
or damaged gzip stream the same way. It reads the header first and then decompresses no
more than the header promises (plus one byte, to see trailing data), so a small file that
expands to gigabytes is refused, not loaded; a header promising more than ``max_bytes``
(1 GiB by default, MNIST's largest file is 47 MB) is refused before anything is read.
"""
import gzip
import math
import zlib

import numpy as np

from .errors import DatasetCorruptError
from .files import open_regular

MAX_IDX_BYTES = 1 << 30

IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(payload, source):
    """The array stored in the IDX bytes ``payload`` (native byte order)."""
    if len(payload) < 4:
        raise DatasetCorruptError(f"{source}: {len(payload)} bytes, too short for an IDX header")
    zero0, zero1, type_code, ndim = payload[0], payload[1], payload[2], payload[3]
    magic = int.from_bytes(payload[:4], "big")
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise DatasetCorruptError(
            f"{source}: bad IDX magic number 0x{magic:08x}; an IDX file starts with "
            f"00 00, a type byte (one of {', '.join(f'0x{t:02x}' for t in IDX_TYPES)}) and "
            "a dimension count (MNIST images: 0x00000803, labels: 0x00000801)"
        )
    header_size = 4 + 4 * ndim
    if len(payload) < header_size:
        raise DatasetCorruptError(
            f"{source}: truncated IDX header ({len(payload)} bytes, {header_size} needed "
            f"for {ndim} dimensions)"
        )
    shape = tuple(int(s) for s in np.frombuffer(payload, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow for (2^32 - 1)^k
    found = len(payload) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "has trailing bytes"
        raise DatasetCorruptError(
            f"{source}: IDX data {problem}: the header promises shape {shape} of {dtype.name} "
            f"({expected} bytes) but {found} bytes follow"
        )
    array = np.frombuffer(payload, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path, max_bytes=MAX_IDX_BYTES):
    """Read an IDX file, gzip-compressed (detected by its magic bytes) or not; see the
    module docstring for what is refused."""
    with open_regular(path) as handle:
        compressed = handle.read(2) == _GZIP_MAGIC
        handle.seek(0)
        stream = gzip.GzipFile(fileobj=handle, mode="rb") if compressed else handle
        try:
            header = stream.read(4)
            if len(header) == 4:
                header += stream.read(4 * header[3])
            expected = _declared_bytes(header, path, max_bytes)
            payload = header + stream.read(expected + 1)  # one more: trailing bytes are an error
        except (EOFError, OSError, zlib.error) as error:
            raise DatasetCorruptError(
                f"{path}: damaged gzip data ({type(error).__name__}: {error}); the file is "
                "truncated or corrupt. Delete it and download it again."
            ) from error
    return parse_idx(payload, path)


def _declared_bytes(header, source, max_bytes):
    """The data bytes an IDX header promises (0 when the header is too short or bad:
    parse_idx then reports what is wrong), refusing a promise beyond ``max_bytes``."""
    if len(header) < 4 or header[2] not in IDX_TYPES or len(header) < 4 + 4 * header[3]:
        return 0
    shape = tuple(int(s) for s in np.frombuffer(header, dtype=">u4", count=header[3], offset=4))
    expected = math.prod(shape) * IDX_TYPES[header[2]].itemsize
    if expected + len(header) > max_bytes:
        raise DatasetCorruptError(
            f"{source}: the IDX header promises shape {shape} ({expected} bytes of data), more "
            f"than the {max_bytes} bytes read_idx accepts (max_bytes); not an official data file"
        )
    return expected
