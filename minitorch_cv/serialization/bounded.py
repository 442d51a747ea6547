"""Reading a checkpoint's ZIP members without trusting their headers: no allocation
larger than the file itself.

A crafted 17 MB file can declare a member of 4 GB (deflate expands it) or an .npy
array of shape (10**12,) (7 TB). So:

    member_bytes(archive, name, source)   a member's bytes, only if it is stored
                                          uncompressed (as ``save`` writes every member)
                                          and lies inside the file
    npy_array(data, source, name)         an .npy member as an array, only when its
                                          header's shape and dtype account for exactly
                                          the bytes that follow it (no object dtype)

Every refusal is the ``CheckpointError`` of ``source.fail`` (naming the file). Readers
of other ZIP-based formats (PyTorch's) can use the same two functions.
"""
import ast
import math
import os
import zipfile

import numpy as np

_NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 1 << 16


def file_size(source):
    """The size in bytes of the source's file."""
    position = source.file.tell()
    size = source.file.seek(0, os.SEEK_END)
    source.file.seek(position)
    return size


def member_bytes(archive, name, source):
    """The bytes of member ``name`` (KeyError when there is none), checked against the
    file before reading: stored uncompressed, and no larger than the file."""
    info = archive.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:
        raise source.fail(
            f"is not a checkpoint save writes: member {name} is compressed (method "
            f"{info.compress_type}), and a compressed member can expand far beyond the file"
        )
    if info.file_size != info.compress_size or info.header_offset + info.file_size > file_size(source):
        raise source.fail(
            f"is corrupt: member {name} declares {info.file_size} bytes, more than the file holds"
        )
    return archive.read(name)  # checks the member's CRC-32


def npy_array(data, source, name):
    """The array in the .npy bytes ``data`` (version 1, 2 or 3), refusing a header whose
    shape and dtype do not account for exactly the bytes that follow it."""
    if not data.startswith(_NPY_MAGIC) or len(data) < 10 or data[6] not in (1, 2, 3):
        raise source.fail(f"is corrupt: member {name} is not an .npy array")
    length_bytes = 2 if data[6] == 1 else 4
    start = 8 + length_bytes
    header_length = int.from_bytes(data[8:start], "little")
    if header_length > _MAX_NPY_HEADER or start + header_length > len(data):
        raise source.fail(f"is corrupt: member {name} has an .npy header of {header_length} bytes")
    try:
        header = ast.literal_eval(data[start : start + header_length].decode("latin1"))
        dtype = np.dtype(header["descr"])
        shape = tuple(int(size) for size in header["shape"])
        fortran = bool(header["fortran_order"])
    except (ValueError, SyntaxError, TypeError, KeyError, MemoryError, RecursionError) as error:
        raise source.fail(f"is corrupt: member {name} has an unreadable .npy header ({error})") from None
    if dtype.hasobject or any(size < 0 for size in shape):
        raise source.fail(f"is corrupt: member {name} declares dtype {dtype} and shape {shape}")
    body = len(data) - start - header_length
    if math.prod(shape) * dtype.itemsize != body:
        raise source.fail(
            f"is corrupt: member {name} declares shape {shape} of {dtype} "
            f"({math.prod(shape) * dtype.itemsize} bytes) but holds {body} bytes"
        )
    if dtype.itemsize == 0:  # nothing to read (np.frombuffer refuses itemsize 0)
        return np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    array = np.frombuffer(data, dtype=dtype, offset=start + header_length)
    return array.reshape(shape, order="F" if fortran else "C").copy(order="K")
