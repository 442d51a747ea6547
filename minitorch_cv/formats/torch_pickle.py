"""The pickle inside a PyTorch checkpoint, read without PyTorch and without running code.

``torch.save`` pickles the object tree (a state_dict, or ``{"model": ..., "epoch": 3}``)
with every tensor reduced to a call

    torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
                                    requires_grad, backward_hooks[, metadata])

whose ``storage`` is a *persistent id*, ``("storage", torch.FloatStorage, key, location,
numel)``: the pickle names the storage, the tensor's bytes live elsewhere in the file
(``torch_checkpoint.py`` knows where). A tensor is then the strided view

    tensor[i0, i1, ...] = storage[storage_offset + i0 * stride[0] + i1 * stride[1] + ...]

An ordinary unpickler would *call* whatever callables the pickle names (``os.system``
as easily as ``_rebuild_tensor_v2``), so reading an untrusted file would run code. This
unpickler answers ``find_class`` from a short table of stand-ins of our own and refuses
every other name with ``CheckpointError`` before anything is called:

    torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_tensor_v3
    torch._utils._rebuild_parameter / _rebuild_parameter_with_state (empty state)
    torch._tensor._rebuild_from_type_v2 (for torch.Tensor / Parameter, empty state)
    collections.OrderedDict                 (state_dicts; their ``_metadata`` is dropped)
    torch.FloatStorage ... torch.BoolStorage, torch.UntypedStorage   (in persistent ids)
    torch.float32 ... torch.bool            (the dtype argument of _rebuild_tensor_v3)
    torch.Tensor, torch.nn.parameter.Parameter   (only as _rebuild_from_type_v2's type)
    _codecs.encode                          (how protocol 2 writes bytes)

The stand-ins record their arguments after checking them (types, non-negative sizes and
strides, empty hooks); no array is made during unpickling: ``torch_tensors.py`` then
turns the result into plain data.
"""
import pickle
from collections import OrderedDict

# PyTorch's typed storages and dtypes -> the NumPy dtype of their elements. bfloat16 has
# no NumPy dtype: its raw 16-bit patterns are read as uint16 and widened to float32.
_STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool",
}
_TORCH_DTYPES = {
    "float64": "float64", "double": "float64", "float32": "float32", "float": "float32",
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int64": "int64",
    "long": "int64", "int32": "int32", "int": "int32", "int16": "int16", "short": "int16",
    "int8": "int8", "uint8": "uint8", "bool": "bool", "uint16": "uint16",
    "uint32": "uint32", "uint64": "uint64",
}


class Refused(pickle.UnpicklingError):
    """The pickle is well formed but asks for something a checkpoint of tensors never
    holds (a malformed tensor rebuild, state set on a stand-in, ...)."""


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a Python object outside the table above."""

    def __init__(self, qualified_name):
        super().__init__(qualified_name)
        self.qualified_name = qualified_name


def refuse(message):
    raise Refused(message)


def check_int(what, value, minimum=0):
    if type(value) is not int or value < minimum:
        refuse(f"{what} must be an int >= {minimum}, got {value!r}")


def _check_ints(what, values):
    if not isinstance(values, tuple):
        refuse(f"{what} must be a tuple of ints, got {type(values).__name__}")
    for value in values:
        check_int(what, value)


# ------------------------------------------------------------------- stand-ins
class _StandIn:
    """What ``find_class`` hands out: no instance state, so a BUILD aimed at one fails."""

    __slots__ = ()

    def __setstate__(self, state):
        refuse(f"unexpected state for {type(self).__name__}")


class StorageType(_StandIn):
    """``torch.FloatStorage`` and its kin: only ever the second item of a persistent id."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype  # a NumPy dtype name, "bfloat16", or None (UntypedStorage: bytes)


class TorchDtype(_StandIn):
    """``torch.float32`` and its kin: the dtype argument of ``_rebuild_tensor_v3``."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class Storage:
    """A storage named by a persistent id: ``numel`` elements of ``dtype``; ``key`` says
    where its bytes are (the container's business). A legacy file's storage *view* is a
    slice ``[offset, offset + numel)`` of a root storage."""

    __slots__ = ("key", "dtype", "numel", "location", "root", "offset")

    def __init__(self, key, dtype, numel, location, root=None, offset=0):
        self.key, self.dtype, self.numel, self.location = key, dtype, numel, location
        self.root, self.offset = root, offset

    def __setstate__(self, state):
        refuse("unexpected state for a storage")


class PendingTensor:
    """A tensor recorded during unpickling, made from its storage by ``finish``."""

    __slots__ = ("storage", "offset", "size", "stride", "requires_grad", "dtype")

    def __init__(self, storage, offset, size, stride, requires_grad, dtype):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.requires_grad, self.dtype = requires_grad, dtype

    def __setstate__(self, state):
        refuse("unexpected state for a tensor")


def _check_hooks(hooks):
    if not (isinstance(hooks, dict) and len(hooks) == 0):
        refuse("tensors with backward hooks cannot be loaded")


def _check_metadata(metadata):
    # PyTorch records the conjugate and negative bits of lazy views here; a plain tensor
    # has none set (or no metadata at all).
    if metadata is None or (isinstance(metadata, dict) and not any(metadata.values())):
        return
    refuse(f"tensors with metadata {metadata!r} (conjugate/negative views) are not supported")


def _check_storage(storage):
    if not isinstance(storage, Storage):
        refuse(f"a tensor's storage must come from a persistent id, got {type(storage).__name__}")


def _typed(storage):
    """The element type of a typed storage (_rebuild_tensor_v2's kind)."""
    _check_storage(storage)
    if storage.dtype is None:
        refuse("_rebuild_tensor_v2 needs a typed storage")
    return storage.dtype


def _pending(storage, offset, size, stride, requires_grad, dtype):
    _check_storage(storage)
    check_int("storage_offset", offset)
    _check_ints("size", size)
    _check_ints("stride", stride)
    if len(size) != len(stride):
        refuse(f"size {size} and stride {stride} have different lengths")
    if type(requires_grad) is not bool:
        refuse(f"requires_grad must be a bool, got {requires_grad!r}")
    return PendingTensor(storage, offset, size, stride, requires_grad, dtype)


class _RebuildTensorV2(_StandIn):
    __slots__ = ()

    def __call__(self, storage, storage_offset, size, stride, requires_grad, backward_hooks,
                 metadata=None):
        _check_hooks(backward_hooks)
        _check_metadata(metadata)
        return _pending(storage, storage_offset, size, stride, requires_grad, _typed(storage))


class _RebuildTensor(_StandIn):
    """PyTorch 0.4's form: no requires_grad, no hooks."""

    __slots__ = ()

    def __call__(self, storage, storage_offset, size, stride):
        return _pending(storage, storage_offset, size, stride, False, _typed(storage))


class _RebuildTensorV3(_StandIn):
    """The form of the dtypes without a typed storage (uint16, uint32, uint64): the
    storage is untyped bytes and the dtype comes as an argument."""

    __slots__ = ()

    def __call__(self, storage, storage_offset, size, stride, requires_grad, backward_hooks,
                 dtype, metadata=None):
        _check_hooks(backward_hooks)
        _check_metadata(metadata)
        if not isinstance(dtype, TorchDtype):
            refuse(f"_rebuild_tensor_v3's dtype must be a torch dtype, got {dtype!r}")
        _check_storage(storage)
        if storage.dtype is not None:
            refuse("_rebuild_tensor_v3 needs an untyped storage")
        return _pending(storage, storage_offset, size, stride, requires_grad, dtype.name)


class _RebuildParameter(_StandIn):
    """``nn.Parameter(data, requires_grad)``: loaded as the tensor it wraps."""

    __slots__ = ()

    def __call__(self, data, requires_grad, backward_hooks, state=None):
        if not isinstance(data, PendingTensor) or type(requires_grad) is not bool:
            refuse("_rebuild_parameter needs a tensor and a bool")
        _check_hooks(backward_hooks)
        if state:
            refuse("parameters with Python attributes cannot be loaded")
        data.requires_grad = requires_grad
        return data


class _TensorType(_StandIn):
    """``torch.Tensor`` / ``torch.nn.parameter.Parameter``: only _rebuild_from_type_v2's
    type argument; deliberately not callable."""

    __slots__ = ()


class _RebuildFromTypeV2(_StandIn):
    """``_rebuild_from_type_v2(func, new_type, args, state)``: a tensor of a (sub)class
    with Python attributes; accepted for plain tensors and parameters without any."""

    __slots__ = ()

    def __call__(self, func, new_type, args, state):
        if not isinstance(func, (_RebuildTensorV2, _RebuildTensor, _RebuildTensorV3)):
            refuse("_rebuild_from_type_v2 with a function other than a tensor rebuild")
        if not isinstance(new_type, _TensorType) or not isinstance(args, tuple) or state:
            refuse("tensor subclasses and tensors with Python attributes are not supported")
        return func(*args)


class _EncodeLatin1(_StandIn):
    """``_codecs.encode(text, 'latin1')``: how pickle protocol 2 writes bytes."""

    __slots__ = ()

    def __call__(self, text, encoding):
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            refuse("_codecs.encode called with unexpected arguments")
        return text.encode("latin1")


class _StateDict(OrderedDict):
    """``collections.OrderedDict``; a state_dict's ``_metadata`` (module versions, which
    PyTorch's load_state_dict uses to upgrade old formats) arrives as its BUILD state and
    is dropped; anything else is refused."""

    def __setstate__(self, state):
        if not (isinstance(state, dict) and set(state) <= {"_metadata"}):
            refuse("an OrderedDict with unexpected attributes")


def _globals():
    table = {("torch._utils", "_rebuild_tensor_v2"): _RebuildTensorV2(),
             ("torch._utils", "_rebuild_tensor"): _RebuildTensor(),
             ("torch._utils", "_rebuild_tensor_v3"): _RebuildTensorV3(),
             ("torch._utils", "_rebuild_parameter"): _RebuildParameter(),
             ("torch._utils", "_rebuild_parameter_with_state"): _RebuildParameter(),
             ("torch._tensor", "_rebuild_from_type_v2"): _RebuildFromTypeV2(),
             ("torch", "Tensor"): _TensorType(),
             ("torch.nn.parameter", "Parameter"): _TensorType(),
             ("collections", "OrderedDict"): _StateDict,
             ("_codecs", "encode"): _EncodeLatin1(),
             ("torch", "UntypedStorage"): StorageType("UntypedStorage", None)}
    for name, dtype in _STORAGE_DTYPES.items():
        table[("torch", name)] = StorageType(name, dtype)
    for name, dtype in _TORCH_DTYPES.items():
        table[("torch", name)] = TorchDtype(dtype)
    return table


_ALLOWED = _globals()


class Unpickler(pickle.Unpickler):
    """The restricted unpickler. ``storage(key, storage_type, location, numel, view)``
    turns a persistent id's fields into a ``Storage`` (the container decides keys)."""

    def __init__(self, file, storage):
        super().__init__(file, encoding="utf-8")
        self._storage = storage

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise RefusedGlobal(f"{module}.{name}") from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            refuse(f"unknown persistent id {pid!r:.80}")
        storage_type, key, location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(storage_type, StorageType):
            refuse(f"persistent id with storage type {storage_type!r:.80}")
        if not isinstance(key, (str, int)) or not isinstance(location, str):
            refuse(f"persistent id with key {key!r:.40} and location {location!r:.40}")
        check_int("a storage's numel", numel)
        return self._storage(key, storage_type, location, numel, view)
