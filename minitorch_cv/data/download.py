"""Fetching data files: download with a progress bar, checksums, safe archive reading.

    download_url(url, path, md5=...)   fetch to path + ".part", check, rename into place
                                       (DownloadError when the transfer fails)
    file_digest(path, "md5")           hex digest, read in 1 MiB chunks
    verify_known_file(path, table)     check a file against the digests we know for it
    read_tar_members(archive, names, max_member_bytes, max_total_bytes, by_path=False)
                                       the bytes of chosen members, nothing extracted, no
                                       member or stream larger than the format allows

Checksums on load. A downloaded file is always checked against its official MD5. A file
found on disk is checked when its name *and size* match an entry of the data set's table
of known files (the official release, and the copies shipped in ``../shared/data`` with
the sha256 sums of their README): a file with a known name and a known size must have
exactly that entry's digest, so bit rot and a damaged copy are caught. A file whose size
matches no entry (for example the same images re-compressed by another tool, which
changes the gzip bytes but not the content) is not rejected here; the format parsers
validate its structure instead. Hashing costs about 0.1 s for 50 MB.
"""
import hashlib
import os
import sys
import tarfile
import time
import zlib

from .errors import DatasetCorruptError, DownloadError
from .files import open_regular

_CHUNK = 1 << 20


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open_regular(path) as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_known_file(path, known_files):
    """Raise ``DatasetCorruptError`` when ``path`` has a known name and size but the
    wrong digest. known_files: {file name: [(size in bytes, algorithm, hex digest), ...]}."""
    entries = known_files.get(os.path.basename(path), [])
    size = os.path.getsize(path)
    for known_size, algorithm, expected in entries:
        if size != known_size:
            continue
        actual = file_digest(path, algorithm)
        if actual != expected:
            raise DatasetCorruptError(
                f"{path}: {algorithm} checksum mismatch (got {actual}, expected {expected} "
                f"for the {size}-byte file of this name): the file is damaged. Delete it and "
                "download it again (or pass verify=False to skip this check)."
            )
        return True
    return False


def _format_bytes(count):
    return f"{count / 1e6:.1f} MB"


class ProgressBar:
    """``name  42% |########            | 68.3/162.6 MB 5.1 MB/s``, redrawn in place.

    Writes to ``stream`` (stderr by default) at most every 0.1 s, and a final line at the
    end. When the total size is unknown it shows the bytes received so far.
    """

    def __init__(self, name, total, stream=None, width=30):
        self.name = name
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._last_width = 0

    def update(self, count):
        self.done += count
        now = time.monotonic()
        if now - self._last_draw >= 0.1:
            self._last_draw = now
            self._draw(now)

    def close(self):
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, now):
        rate = self.done / max(now - self.start, 1e-9)
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            filled = int(round(fraction * self.width))
            bar = "#" * filled + " " * (self.width - filled)
            text = (
                f"{self.name} {fraction * 100:3.0f}% |{bar}| "
                f"{_format_bytes(self.done)}/{_format_bytes(self.total)} "
                f"{_format_bytes(rate)}/s"
            )
        else:
            text = f"{self.name} {_format_bytes(self.done)} {_format_bytes(rate)}/s"
        # Pad with spaces so a shorter line fully covers the previous one.
        self.stream.write("\r" + text.ljust(self._last_width))
        self._last_width = len(text)
        self.stream.flush()


def download_url(url, path, md5=None, timeout=30, progress=True):
    """Download ``url`` to ``path``, showing progress, and check its MD5.

    The bytes go to ``path + ".part"`` first and are renamed into place only after the
    checksum matches, so an interrupted or damaged download never looks like a good file.
    Raises ``DownloadError`` when the transfer fails (no network, no such server, HTTP
    error, connection cut), ``DatasetCorruptError`` on a checksum mismatch.
    """
    # Imported here, not at the top: they pull in ssl (~50 ms), which reading local
    # files never needs.
    import http.client
    import urllib.request

    partial = path + ".part"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            bar = ProgressBar(os.path.basename(path), total) if progress else None
            with open(partial, "wb") as out:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            if bar is not None:
                bar.close()
        if md5 is not None and digest.hexdigest() != md5:
            raise DatasetCorruptError(
                f"{url}: downloaded file has MD5 {digest.hexdigest()}, expected {md5}; "
                "the download was damaged or the server sent something else"
            )
    except BaseException as error:
        if os.path.exists(partial):
            os.remove(partial)
        # URLError/HTTPError/timeouts are OSErrors; a cut connection may be HTTPException.
        if isinstance(error, (OSError, http.client.HTTPException)):
            raise DownloadError(f"{type(error).__name__}: {error}") from error
        raise
    os.replace(partial, path)
    return path


def _member_key(member, by_path):
    """A member's base name, or its path without a leading "./" and trailing "/"."""
    name = member.name.rstrip("/")
    if by_path:
        while name.startswith("./"):
            name = name[2:]
        return name
    return name.split("/")[-1]


def read_tar_members(archive, wanted, max_member_bytes, max_total_bytes, source_name=None, by_path=False):
    """Read chosen members of a (gzip-compressed) tar archive into memory.

    wanted: a function from a member's base name (its path inside the archive when
    ``by_path``) to True/False. Returns {that name: bytes}. Nothing is written to disk,
    so a crafted archive cannot place files outside a folder. A truncated or corrupt
    archive raises ``DatasetCorruptError``, and so does one that is larger than its
    format allows: a wanted member over ``max_member_bytes``, or a stream that
    decompresses past ``max_total_bytes`` (a 26 MB gzip can expand to 6 GB). Both are
    checked against the tar headers before the data is read, so memory and time stay
    bounded.
    """
    name = source_name or archive
    found = {}
    try:
        with open_regular(archive) as handle, tarfile.open(fileobj=handle, mode="r:*") as tar:
            for member in tar:
                if member.offset_data + member.size > max_total_bytes:
                    raise DatasetCorruptError(
                        f"{name}: member {member.name} ends past {max_total_bytes} bytes of archive, "
                        "more than this data set's archive holds; not an official archive"
                    )
                key = _member_key(member, by_path)
                if not member.isfile() or not wanted(key):
                    continue
                if member.size > max_member_bytes:
                    raise DatasetCorruptError(
                        f"{name}: member {member.name} has {member.size} bytes, more than the "
                        f"{max_member_bytes} this data set's files can have; not an official archive"
                    )
                found[key] = tar.extractfile(member).read()
                if len(found[key]) != member.size:
                    raise DatasetCorruptError(f"{name}: member {member.name} is truncated")
            # tarfile stops at the end-of-archive blocks, before the gzip trailer, so the
            # CRC-32 of the stream would never be checked and a flipped bit inside would
            # silently change a pixel. Reading to the end (discarding, and not past the
            # bound) makes gzip verify it.
            while tar.fileobj.read(_CHUNK):
                if tar.fileobj.tell() > max_total_bytes:
                    raise DatasetCorruptError(f"{name}: more than {max_total_bytes} bytes after decompression")
    except DatasetCorruptError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DatasetCorruptError(
            f"{name}: cannot read the archive ({type(error).__name__}: {error}); it is "
            "truncated or corrupt. Delete it and download it again."
        ) from error
    return found
