"""Opening data files without trusting them: regular files only, bounded reads.

    open_regular(path)          a binary file object; a FIFO, a device or a socket at
                                ``path`` is refused (DatasetCorruptError) instead of
                                blocking the reader forever or streaming without end
    read_bounded(stream, limit, source)
                                the stream's bytes, refusing more than ``limit``: a
                                compressed member cannot expand beyond what its format
                                allows

Every refusal is a ``DatasetCorruptError`` naming the file.
"""
import os
import stat

from .errors import DatasetCorruptError

try:
    import fcntl
except ImportError:  # Windows: no FIFOs to fear, and no non-blocking open either
    fcntl = None

_CHUNK = 1 << 20


def open_regular(path):
    """Open ``path`` for reading in binary mode if it is a regular file.

    It is opened non-blocking (opening a FIFO for reading would otherwise wait for a
    writer), checked with fstat on the open descriptor (no race with a rename), then
    switched back to blocking reads."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise DatasetCorruptError(f"{path}: {kind}; data files must be regular files")
        if fcntl is not None:
            flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
            fcntl.fcntl(descriptor, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_bounded(stream, limit, source):
    """All of ``stream`` (a file object), or DatasetCorruptError once it passes ``limit``
    bytes: memory stays bounded whatever a compressed stream expands to."""
    chunks, total = [], 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise DatasetCorruptError(
                f"{source}: more than {limit} bytes, more than the format allows; the file is not "
                "an official data file (a compressed member that expands without end?)"
            )
        chunks.append(chunk)
