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
or damaged gzip stream the same way.
"""
import gzip
import zlib

import numpy as np

from .errors import DatasetCorruptError

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
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(payload) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "has trailing bytes"
        raise DatasetCorruptError(
            f"{source}: IDX data {problem}: the header promises shape {shape} of {dtype.name} "
            f"({expected} bytes) but {found} bytes follow"
        )
    array = np.frombuffer(payload, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path):
    """Read an IDX file, gzip-compressed (detected by its magic bytes) or not."""
    with open(path, "rb") as handle:
        payload = handle.read()
    if payload[:2] == _GZIP_MAGIC:
        try:
            payload = gzip.decompress(payload)
        except (EOFError, OSError, zlib.error) as error:
            raise DatasetCorruptError(
                f"{path}: damaged gzip data ({type(error).__name__}: {error}); the file is "
                "truncated or corrupt. Delete it and download it again."
            ) from error
    return parse_idx(payload, path)
