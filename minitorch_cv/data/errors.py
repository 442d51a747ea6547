"""The two ways loading a data set can fail, each with a message that says what to do.

``DatasetNotFoundError`` (a ``FileNotFoundError``): the files are not where we looked and
could not be downloaded. The message lists the places searched, the exact file names
expected, and the two ways to point the loaders at a copy (``MINITORCH_CV_DATA`` or the
examples' ``--data-dir``).

``DatasetCorruptError`` (a ``ValueError``): a file was found but its content is wrong (a
truncated archive, a bad IDX header, a checksum mismatch, a pickle that asks for objects
the format never holds).
"""
import os

ENV_VAR = "MINITORCH_CV_DATA"


class DatasetNotFoundError(FileNotFoundError):
    pass


class DatasetCorruptError(ValueError):
    pass


class DownloadError(OSError):
    """A download failed: no network, no such server, an HTTP error, a cut connection.
    The data sets turn it into a ``DatasetNotFoundError`` saying where to put the files."""


def not_found_message(name, searched, expected, download_hint):
    """A message telling the user exactly where to put which files.

    name: the data set ("CIFAR-10"); searched: the paths looked at; expected: lines
    describing the accepted layouts; download_hint: why downloading did not happen.
    """
    lines = [f"{name} not found. Looked in:"]
    lines += [f"    {path}" for path in searched]
    lines.append("Put the official files in one of these layouts:")
    lines += [f"    {line}" for line in expected]
    lines.append(
        f"then pass that folder (or archive) as `root`, set the environment variable "
        f"{ENV_VAR}=/path/to/it, or give the examples --data-dir /path/to/it."
    )
    if download_hint:
        lines.append(download_hint)
    return "\n".join(lines)


def cache_dir():
    """Where downloads go when no location is given: $XDG_CACHE_HOME/minitorch_cv, by
    default ~/.cache/minitorch_cv."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minitorch_cv")


def default_root(root):
    """``root`` as given, else ``$MINITORCH_CV_DATA``, else the download cache."""
    if root is not None:
        return os.fspath(os.path.expanduser(root))
    env = os.environ.get(ENV_VAR)
    if env:
        return os.path.expanduser(env)
    return cache_dir()
