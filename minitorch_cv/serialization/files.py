"""Where a checkpoint's bytes go and come from: atomic writes to a path, and the
``Source`` a reader gets (a seekable binary file, its first bytes, its name).

Atomic writes: the data goes to a temporary file in the target's directory, is flushed
and fsync'ed, and only then renamed over the target (``os.replace``); the directory is
fsync'ed so that the rename itself is durable. A crash or kill at any moment leaves
either the old file or the new one at the path, never a partial file.
"""
import contextlib
import io
import os
import tempfile

from .errors import CheckpointError

# The process umask, read once (os.umask can only be read by setting it): the temporary
# file is created private (0600) and gets the permissions a plain open() would give.
_UMASK = os.umask(0)
os.umask(_UMASK)

HEAD_BYTES = 16  # what readers may look at to recognise a format


@contextlib.contextmanager
def atomic_write(path):
    """``with atomic_write(path) as file:`` write binary data; it replaces ``path`` only
    when the block finishes without an exception (see the module docstring)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(
        prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory
    )
    try:
        os.chmod(temporary, 0o666 & ~_UMASK)
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        # Any failure (including KeyboardInterrupt) leaves the old file alone.
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


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


class Source:
    """One checkpoint being read: ``file`` (binary, seekable, at offset 0), ``head``
    (its first ``HEAD_BYTES`` bytes) and ``name`` (the path, or a description of the
    file object, for messages)."""

    def __init__(self, file, name):
        self.file = file
        self.name = name
        self.head = file.read(HEAD_BYTES)
        file.seek(0)

    def fail(self, problem):
        """A ``CheckpointError`` that names this file."""
        return CheckpointError(f"load: {self.name} {problem}")


@contextlib.contextmanager
def open_source(f):
    """A ``Source`` for a path or a binary file object. A file object is read from its
    current position to the end (into memory, so any stream works) and left open."""
    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, bytes):
            raise TypeError(
                f"load: expected a binary file object (opened with 'rb'), got one that "
                f"reads {type(data).__name__}"
            )
        yield Source(io.BytesIO(data), getattr(f, "name", None) or f"<{type(f).__name__}>")
        return
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path}")
    try:
        file = open(path, "rb")
    except OSError as error:
        raise CheckpointError(f"load: {path} cannot be opened ({error})") from error
    with file:
        yield Source(file, path)
