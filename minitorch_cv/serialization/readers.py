"""Which reader reads a checkpoint: the registry that ``load`` consults.

A reader is any object with

    name                                     for messages ("minitorch_cv checkpoint")
    claims(source) -> bool                   is this file in my format? Look only at
                                             ``source.head`` (the first bytes) and, for
                                             ZIP-based formats, ``zip_names(source)``
    read(source, placement, weights_only)    the loaded object

``load`` asks the registered readers in order and the first that claims the file reads
it. A reader must honour ``weights_only=True`` by running no code from the file, and
place every tensor with ``placement.place(array, saved_device)`` (see placement.py).
"""
import zipfile

_READERS = []
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a ZIP archive with members / an empty one


def register_reader(reader):
    """Add ``reader`` to the formats ``load`` understands (asked in registration order)."""
    for attribute in ("name", "claims", "read"):
        if not hasattr(reader, attribute):
            raise TypeError(f"register_reader: a reader needs a {attribute!r} attribute")
    _READERS.append(reader)
    return reader


def is_zip(source):
    return source.head.startswith(ZIP_MAGIC)


def zip_names(source):
    """The member names of a ZIP source (cached), or None when it cannot be opened."""
    if not hasattr(source, "_zip_names"):
        try:
            with zipfile.ZipFile(source.file) as archive:
                source._zip_names = frozenset(archive.namelist())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
            source._zip_names = None
        source.file.seek(0)
    return source._zip_names


def find_reader(source):
    """The first registered reader that claims ``source``; a clear error otherwise."""
    for reader in _READERS:
        if reader.claims(source):
            return reader
    formats = ", ".join(reader.name for reader in _READERS)
    if len(source.head) == 0 or (is_zip(source) and zip_names(source) is None):
        raise source.fail("is truncated or corrupt and cannot be read (not a complete ZIP archive)")
    if is_zip(source):
        raise source.fail(f"is not a minitorch_cv checkpoint (a ZIP archive of no known format: {formats})")
    raise source.fail(f"is truncated or corrupt, or not a checkpoint (known formats: {formats})")
