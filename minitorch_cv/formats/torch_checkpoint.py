"""PyTorch checkpoint files (``torch.save``), read without PyTorch and without running code.

Two layouts exist. Since PyTorch 1.6 ``torch.save`` writes a ZIP archive (members
stored uncompressed, each aligned to 64 bytes so that it can be memory-mapped):

    <name>/data.pkl        the object tree, pickled (protocol 2); tensors refer to
                           storages by key through persistent ids (torch_pickle.py)
    <name>/data/<key>      the raw bytes of storage <key>, in the byte order of
    <name>/byteorder       "little" or "big" (absent in older files: little)
    <name>/version         the format version ("3"), .format_version, ...

Before 1.6 (and with ``_use_new_zipfile_serialization=False``) the file is a sequence:

    pickle: the magic number 0x1950a86a20f9469cfc6c
    pickle: the protocol version 1001
    pickle: {"little_endian": bool, "type_sizes": ..., "protocol_version": 1001}
    pickle: the object tree (persistent ids as above, plus a storage-view field)
    pickle: the list of storage keys, in the order their bytes follow
    then for each key: an int64 element count and the storage's raw bytes

Older torchvision weight files (vgg16-397923af.pth, ...) are of the second kind. The
even older tar layout (PyTorch < 0.4) and TorchScript archives (``torch.jit.save``) are
refused with a message that says so.

``read(file, name, make_tensor)`` returns the object tree; every tensor becomes
``make_tensor(array, location, requires_grad)`` with ``array`` a NumPy array of the
tensor's dtype (bfloat16 widened to float32) and ``location`` where it was saved
("cpu", "cuda:0"). Every problem raises ``CheckpointError`` naming ``name``: a pickle
that names any Python object outside torch_pickle's table, a truncated or corrupt
archive, a storage of the wrong length, a tensor reading outside its storage.
"""
import io
import pickle
import struct
import zipfile

import numpy as np

from ..serialization.errors import CheckpointError
from . import torch_pickle
from .numeric import bfloat16_to_float32
from .torch_tensors import Finisher

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
# A legacy file opens with the pickle of LEGACY_MAGIC: PROTO 2, LONG1 of 10 bytes.
LEGACY_HEAD = b"\x80\x02\x8a\x0a" + LEGACY_MAGIC.to_bytes(10, "little")
ZIP_MAGIC = b"PK\x03\x04"


def _fail(name):
    def fail(problem):
        return CheckpointError(f"load: {name} {problem}")
    return fail


def default_make_tensor(array, location, requires_grad):
    """A CPU Tensor (requiring grad when saved so and floating point)."""
    from ..tensor import Tensor

    tensor = Tensor(array)
    if requires_grad and tensor.is_floating_point():
        tensor.requires_grad = True
    return tensor


def is_zip_checkpoint(names):
    """Whether the ZIP member ``names`` are torch.save's layout (one ``*/data.pkl``)."""
    return any(name.count("/") == 1 and name.endswith("/data.pkl") for name in names)


def is_legacy_checkpoint(head):
    return head.startswith(LEGACY_HEAD)


def read(file, name, make_tensor=default_make_tensor):
    """Read a PyTorch checkpoint (either layout) from the binary, seekable ``file``."""
    fail = _fail(name)
    head = file.read(len(LEGACY_HEAD))
    file.seek(0)
    if head.startswith(ZIP_MAGIC):
        return _read_zip(file, fail, make_tensor)
    if is_legacy_checkpoint(head):
        return _read_legacy(file, fail, make_tensor)
    raise fail("is not a PyTorch checkpoint (neither torch.save's ZIP archive nor its "
               "legacy pickle sequence)")


def _load_tree(unpickler, fail):
    """Run the restricted unpickler; every failure becomes a CheckpointError."""
    try:
        return unpickler.load()
    except torch_pickle.RefusedGlobal as refused:
        raise fail(
            f"was refused: its pickle asks for the Python object '{refused.qualified_name}', "
            "which a checkpoint of tensors never needs; nothing from the file was run. "
            "Only tensors, dicts, OrderedDicts, lists, tuples, numbers and strings are "
            "read (a state_dict, or {'model': state_dict, 'epoch': ...}). If the file comes "
            "from a source you trust and holds whole objects, load it with PyTorch and "
            "save its state_dict()."
        ) from None
    except torch_pickle.Refused as refused:
        raise fail(f"was refused: {refused}; nothing from the file was run") from None
    except CheckpointError:
        raise
    except Exception as error:  # UnpicklingError, EOFError, TypeError from a bad call, ...
        raise fail(
            f"is truncated or corrupt: its pickle cannot be read ({type(error).__name__}: {error})"
        ) from None


def _storage_array(raw, dtype, numel, byteorder, key, fail):
    """The ``numel`` elements of ``dtype`` in ``raw``, native byte order, writable."""
    raw_dtype = "uint16" if dtype == "bfloat16" else ("uint8" if dtype is None else dtype)
    item = np.dtype(raw_dtype).newbyteorder("<" if byteorder == "little" else ">")
    expected = numel * item.itemsize
    if len(raw) != expected:
        raise fail(f"is truncated or corrupt: storage {key!r} holds {len(raw)} bytes, its "
                   f"{numel} elements of {dtype or 'bytes'} need {expected}")
    array = np.frombuffer(raw, dtype=item).astype(item.newbyteorder("="))
    return bfloat16_to_float32(array) if dtype == "bfloat16" else array


# ------------------------------------------------------------------ the ZIP layout
def _read_zip(file, fail, make_tensor):
    try:
        with zipfile.ZipFile(file) as archive:
            members = {info.filename: info for info in archive.infolist()}
            pickles = [n for n in members if n.count("/") == 1 and n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise fail("is a ZIP archive but not a PyTorch checkpoint (no <name>/data.pkl)"
                           if not pickles else "is corrupt: it holds several data.pkl")
            prefix = pickles[0][: -len("data.pkl")]
            if prefix + "constants.pkl" in members or any(n.startswith(prefix + "code/")
                                                          for n in members):
                raise fail("is a TorchScript archive (torch.jit.save), not a torch.save "
                           "checkpoint: save the model's state_dict() with torch.save")
            for info in members.values():
                # torch.save stores members uncompressed: reading one then takes no more
                # memory than the file itself (no decompression bomb).
                if info.compress_type != zipfile.ZIP_STORED:
                    raise fail(f"is not a torch.save archive: member {info.filename} is compressed")
            byteorder = "little"
            if prefix + "byteorder" in members:
                byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
                if byteorder not in ("little", "big"):
                    raise fail(f"is corrupt: unknown byte order {byteorder!r}")

            def storage(key, storage_type, location, numel, view):
                if view is not None:
                    torch_pickle.refuse("storage views appear only in legacy files")
                return torch_pickle.Storage(str(key), storage_type.dtype, numel, location)

            def storage_array(root):
                member = f"{prefix}data/{root.key}"
                if member not in members:
                    raise fail(f"is truncated or corrupt: storage {root.key!r} is missing ({member})")
                raw = archive.read(member)  # checks the member's CRC-32
                return _storage_array(raw, root.dtype, root.numel, byteorder, root.key, fail)

            payload = io.BytesIO(archive.read(pickles[0]))
            tree = _load_tree(torch_pickle.Unpickler(payload, storage), fail)
            return Finisher(storage_array, make_tensor, fail).finish(tree)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, ValueError,
            OSError, NotImplementedError) as error:
        raise fail(f"is truncated or corrupt and cannot be read ({type(error).__name__}: {error})"
                   ) from error


# ---------------------------------------------------------------- the legacy layout
def _read_plain_pickle(file, fail, what):
    """One of the small header pickles: plain data only (no globals at all)."""
    try:
        return _NoGlobals(file).load()
    except Exception as error:
        raise fail(f"is truncated or corrupt: its {what} cannot be read "
                   f"({type(error).__name__}: {error})") from None


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"a header naming {module}.{name}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("a header with a persistent id")


def _read_legacy(file, fail, make_tensor):
    if _read_plain_pickle(file, fail, "magic number") != LEGACY_MAGIC:
        raise fail("is corrupt: wrong magic number")
    if _read_plain_pickle(file, fail, "protocol version") != LEGACY_PROTOCOL:
        raise fail("has an unknown legacy protocol version")
    info = _read_plain_pickle(file, fail, "system information")
    byteorder = "little" if not isinstance(info, dict) or info.get("little_endian", True) else "big"

    roots = {}  # key -> Storage, in the order the pickle names them

    def storage(key, storage_type, location, numel, view):
        if storage_type.dtype is None:
            torch_pickle.refuse("legacy files have typed storages only")
        key = str(key)
        if key not in roots:
            roots[key] = torch_pickle.Storage(key, storage_type.dtype, numel, location)
        root = roots[key]
        if view is None:
            return root
        if not (isinstance(view, tuple) and len(view) == 3):
            torch_pickle.refuse(f"storage view {view!r:.60}")
        _, offset, size = view
        torch_pickle.check_int("a storage view's offset", offset)
        torch_pickle.check_int("a storage view's size", size)
        return torch_pickle.Storage(key, root.dtype, size, location, root=root, offset=offset)

    # The object tree is one pickle among several in the stream; the unpickler stops at
    # its STOP opcode, where the list of storage keys begins.
    tree = _load_tree(torch_pickle.Unpickler(file, storage), fail)
    keys = _read_plain_pickle(file, fail, "list of storage keys")
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(roots):
        raise fail("is corrupt: its list of storage keys does not match the storages it uses")
    position = file.tell()
    end = file.seek(0, io.SEEK_END)
    file.seek(position)
    arrays = {}
    for key in map(str, keys):
        root = roots[key]
        count = file.read(8)
        if len(count) != 8:
            raise fail(f"is truncated: storage {key!r} is missing")
        (numel,) = struct.unpack("<q" if byteorder == "little" else ">q", count)
        if numel != root.numel:
            raise fail(f"is corrupt: storage {key!r} has {numel} elements, the pickle says {root.numel}")
        raw_dtype = "uint16" if root.dtype == "bfloat16" else root.dtype
        nbytes = numel * np.dtype(raw_dtype).itemsize
        if nbytes > end - file.tell():  # checked before reading: no huge allocation
            raise fail(f"is truncated: storage {key!r} needs {nbytes} bytes, "
                       f"{end - file.tell()} are left")
        raw = file.read(nbytes)
        arrays[key] = _storage_array(raw, root.dtype, numel, byteorder, key, fail)
    return Finisher(lambda root: arrays[root.key], make_tensor, fail).finish(tree)

