"""Hand-assembled pickles and PyTorch-layout files for the reader tests (no torch).

A pickle is a little stack program; these helpers write its opcodes (protocol 2) so a
test can build exactly the file it means: a state_dict as torch.save writes it, or one
that asks for ``posix.system``. ``pickletools.dis(payload)`` shows what was built.
"""
import io
import pickle
import struct
import zipfile

PROTO_2, STOP, MARK, TUPLE, REDUCE = b"\x80\x02", b".", b"(", b"t", b"R"
BINPERSID, EMPTY_DICT, SETITEMS, EMPTY_LIST, APPENDS = b"Q", b"}", b"u", b"]", b"e"
NEWFALSE, NEWTRUE, NONE, BUILD = b"\x89", b"\x88", b"N", b"b"


def program(ops):
    return PROTO_2 + ops + STOP


def global_(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def string(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def integer(value):
    if -2**31 <= value < 2**31:
        return b"J" + struct.pack("<i", value)  # BININT
    return b"\x8a\x08" + struct.pack("<q", value)  # LONG1 of 8 bytes


def tuple_(*items):
    return MARK + b"".join(items) + TUPLE


def call(function, *arguments):
    return function + tuple_(*arguments) + REDUCE


def dict_(pairs):
    return EMPTY_DICT + MARK + b"".join(k + v for k, v in pairs) + SETITEMS


def list_(items):
    return EMPTY_LIST + MARK + b"".join(items) + APPENDS


def ordered_dict():
    return call(global_("collections", "OrderedDict"))


def storage(key, numel, kind="FloatStorage"):
    """The persistent id torch.save writes for a storage."""
    return tuple_(string("storage"), global_("torch", kind), string(key), string("cpu"),
                  integer(numel)) + BINPERSID


def tensor(storage_ops, offset, size, stride, rebuild="_rebuild_tensor_v2"):
    return call(global_("torch._utils", rebuild), storage_ops, integer(offset),
                tuple_(*map(integer, size)), tuple_(*map(integer, stride)), NEWFALSE,
                ordered_dict())


def torch_zip(payload, storages=(), prefix="archive", compression=zipfile.ZIP_STORED,
              extra=()):
    """The bytes of a torch.save-style ZIP: data.pkl, byteorder, data/<key>, version."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr(f"{prefix}/data.pkl", payload)
        archive.writestr(f"{prefix}/byteorder", "little")
        for key, data in dict(storages).items():
            archive.writestr(f"{prefix}/data/{key}", data)
        for name, data in extra:
            archive.writestr(f"{prefix}/{name}", data)
        archive.writestr(f"{prefix}/version", "3\n")
    return buffer.getvalue()


def legacy_file(payload, storages=()):
    """The bytes of a legacy (pre-1.6) torch.save file: magic, protocol, system info,
    the object pickle, the storage keys, then each storage as int64 count + bytes
    (``storages`` gives (key, element count, bytes))."""
    head = b"".join(pickle.dumps(obj, protocol=2) for obj in (
        0x1950A86A20F9469CFC6C, 1001,
        {"protocol_version": 1001, "little_endian": True,
         "type_sizes": {"short": 2, "int": 4, "long": 4}}))
    keys = pickle.dumps([key for key, _, _ in storages], protocol=2)
    data = b"".join(struct.pack("<q", count) + raw for _, count, raw in storages)
    return head + payload + keys + data
