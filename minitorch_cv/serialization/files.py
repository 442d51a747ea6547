"""Where a checkpoint's bytes go and come from: atomic writes to a path, and the
``Source`` a reader gets (a seekable binary file, its first bytes, its name).

Atomic writes: the data goes to a temporary file in the target's directory, is flushed
and fsync'ed, and only then renamed over the target (``os.replace``); the directory is
fsync'ed so that the rename itself is durable. A crash or kill at any moment leaves
either the old file or the new one at the path, never a partial file.

Leftovers of killed writes: a writer killed mid-save (kill -9, out of memory, power)
leaves its temporary file ``.<name>.XXXXXXXX.tmp`` behind. Each writer holds an exclusive
lock (flock) on its temporary file until it is done, and every save to a path first
removes the temporaries of that path that nobody holds a lock on and that have not been
modified for ``STALE_SECONDS``: a live writer's file is locked (and recent), so a
concurrent save is never disturbed; a killed writer's lock died with it. (Without flock,
on Windows, nothing is removed.)

Reading: only a regular file is opened (a FIFO or a device at the path would block the
reader or stream forever), without blocking, then checked with fstat.
"""
import contextlib
import io
import os
import re
import stat
import tempfile
import time

from .errors import CheckpointError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

STALE_SECONDS = 60

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
    remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(
        prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory
    )
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)  # "alive": held until the file is closed
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


def remove_stale_temporaries(path):
    """Remove the temporary files that killed writes to ``path`` left behind (see the
    module docstring); returns their paths."""
    if fcntl is None:
        return []
    directory = os.path.dirname(os.path.abspath(path))
    # tempfile.mkstemp's names: the prefix, 8 characters of [a-z0-9_], the suffix
    pattern = re.compile(re.escape("." + os.path.basename(path) + ".") + r"[a-z0-9_]{8}\.tmp")
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if pattern.fullmatch(entry.name) and _is_abandoned(entry):
            removed.append(entry.path)
    return removed


def _is_abandoned(entry):
    """Removes ``entry`` and returns True when it is an old regular file that no live
    writer locks (the check and the removal happen under the lock)."""
    try:
        if not entry.is_file(follow_symlinks=False):
            return False
        if time.time() - entry.stat(follow_symlinks=False).st_mtime < STALE_SECONDS:
            return False
        descriptor = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # a live writer holds it
        os.close(descriptor)
        return False
    try:
        os.remove(entry.path)
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)


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
    with _open_regular(path) as file:
        yield Source(file, path)


def _open_regular(path):
    """``path`` opened for binary reading if it is a regular file (see the module
    docstring), else CheckpointError naming it."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise CheckpointError(f"load: {path} cannot be opened ({error})") from error
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise CheckpointError(f"load: {path} is {kind}, not a checkpoint file")
    if fcntl is not None:
        fcntl.fcntl(descriptor, fcntl.F_SETFL, fcntl.fcntl(descriptor, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return os.fdopen(descriptor, "rb")
