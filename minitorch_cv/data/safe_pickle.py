"""Unpickle data files without letting them run code.

A pickle is a small program: ``GLOBAL os system`` followed by ``REDUCE`` calls
``os.system(...)`` while the file is being *read*. ``pickle.load`` on a file from the
internet is therefore code execution. The official CIFAR-10 "python version" batches are
pickles (written by Python 2, protocol 2), so they must be read with a restricted
unpickler: every global the stream names goes through ``find_class``, and ours answers
only the few names that a pickled NumPy array needs. Checked against the real files with
``pickletools.genops``: a data batch names exactly

    numpy.core.multiarray._reconstruct   make an empty array (NumPy 2 writes the module
                                         as numpy._core.multiarray; both are accepted)
    numpy.ndarray                        the class passed to _reconstruct
    numpy.dtype                          the element type: dtype('u1', False, True)

and ``batches.meta`` names none. A file re-saved by Python 3 may also name
``_codecs.encode`` (how protocol 2 writes bytes) or ``numpy._core.numeric._frombuffer``
(protocol 5 arrays); both are accepted in the exact form those writers use. Anything
else (``os.system``, ``builtins.eval``, ``numpy.load``, ...) raises
``DatasetCorruptError`` before it could be called.

Not even NumPy's own unpickling code runs. The names above resolve to stand-ins:
``_reconstruct`` returns an ``_ArrayState`` and ``dtype`` a ``_DtypeState``; the BUILD
opcodes that follow hand them their state, which they check field by field (plain
numeric element type, byte order, no fields or sub-arrays, a shape of non-negative ints,
exactly prod(shape) * itemsize raw bytes) before building the array with
``np.frombuffer``. So a crafted state cannot make NumPy interpret bytes as object
pointers, and object or structured arrays, whose elements would be arbitrary Python
objects, are refused. The stand-ins and the allowed callables keep no settable
attributes (``__slots__``), so a BUILD aimed at them cannot modify them. After loading,
the result is walked: it must consist of dicts, lists, tuples, str/bytes, numbers, None
and numeric arrays only.

Bounded: a pickle can refer to one object many times (its memo), so 771 bytes can
describe a list of 200 references to a list of 200 references ... five levels deep.
The walk keeps such shared objects shared (each is converted once, so the result is as
large as the file, not 200**5 nodes), and the arrays may hold at most as many bytes as
the file itself has (every array's bytes are in the file once; an array state that
reuses another's bytes many times would multiply memory).
"""
import io
import math
import numbers
import pickle

import numpy as np

from .errors import DatasetCorruptError


def _refuse(message):
    raise pickle.UnpicklingError(message)


def _plain_dtype(spec, byteorder="="):
    """A plain numeric dtype (bool, ints, floats) from a spec such as 'u1' or b'<f8'."""
    if isinstance(spec, bytes):
        spec = spec.decode("ascii")
    if not isinstance(spec, str) or byteorder not in ("|", "<", ">", "="):
        _refuse(f"numpy dtype with unexpected spec {spec!r} / byte order {byteorder!r}")
    dtype = np.dtype(spec)
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        _refuse(f"numpy dtype {dtype} is not a plain numeric type")
    return dtype if byteorder == "|" else dtype.newbyteorder(byteorder)


class _DtypeState:
    """Stands for ``numpy.dtype(spec, align, copy)`` until its BUILD gives the state
    (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])."""

    __slots__ = ("spec", "dtype")

    def __init__(self, spec):
        self.spec = spec
        self.dtype = _plain_dtype(spec)

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) not in (8, 9) or state[0] not in (3, 4):
            _refuse(f"numpy dtype state {state!r} is not the form NumPy writes")
        if state[2:5] != (None, None, None):
            _refuse("numpy dtype with sub-arrays or fields is not a plain numeric type")
        self.dtype = _plain_dtype(self.spec, state[1])


class _ArrayState:
    """Stands for the empty array ``_reconstruct`` makes until its BUILD gives the state
    (version, shape, dtype, is_fortran, raw bytes); then ``array`` holds the result."""

    __slots__ = ("array",)

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        if self.array is not None:
            _refuse("numpy array state given twice")
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            _refuse("numpy array state is not the form NumPy writes")
        shape, dtype, is_fortran, raw = state
        self.array = _array_from_bytes(raw, dtype, shape, "F" if is_fortran else "C")


def _array_from_bytes(raw, dtype, shape, order):
    if isinstance(dtype, _DtypeState):
        dtype = dtype.dtype
    if not isinstance(dtype, np.dtype):
        _refuse(f"numpy array with dtype {dtype!r}")
    if isinstance(raw, str):  # Python-2 str read with encoding="latin1"
        raw = raw.encode("latin1")
    if not isinstance(raw, (bytes, bytearray, pickle.PickleBuffer)):
        _refuse(f"numpy array data of type {type(raw).__name__}, expected raw bytes")
    if not isinstance(shape, tuple) or not all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape
    ):
        _refuse(f"numpy array shape {shape!r} is not a tuple of non-negative ints")
    expected = math.prod(shape) * dtype.itemsize
    raw = memoryview(raw).cast("B")
    if raw.nbytes != expected:
        _refuse(f"numpy array {shape} of {dtype} needs {expected} bytes, got {raw.nbytes}")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape, order=order)
    return array.astype(dtype.newbyteorder("="), order="C")  # a native, writable copy


class _Global:
    """The allowed globals: objects without instance state (``__slots__ = ()``)."""

    __slots__ = ()


class _NdarrayMarker(_Global):
    """``numpy.ndarray``: only ever passed to ``_reconstruct``; deliberately not callable."""

    __slots__ = ()


class _Reconstruct(_Global):
    """``_reconstruct(ndarray, (0,), b'b')``, the only call NumPy writes into pickles."""

    __slots__ = ()

    def __call__(self, subtype, shape, dtype_code):
        expected = isinstance(subtype, _NdarrayMarker) and shape == (0,)
        if not expected or dtype_code not in (b"b", "b"):
            _refuse(
                f"numpy _reconstruct called with unexpected arguments ({subtype!r}, "
                f"{shape!r}, {dtype_code!r}); NumPy writes (ndarray, (0,), b'b')"
            )
        return _ArrayState()


class _Dtype(_Global):
    """``numpy.dtype(spec, align, copy)`` for plain numeric specs."""

    __slots__ = ()

    def __call__(self, spec, align=False, copy=False):
        if align not in (False, 0) or copy not in (True, False, 0, 1):
            _refuse("numpy dtype with unexpected align/copy arguments")
        return _DtypeState(spec)


class _FromBuffer(_Global):
    """NumPy's protocol-5 array constructor ``_frombuffer(buffer, dtype, shape, order)``."""

    __slots__ = ()

    def __call__(self, buffer, dtype, shape, order, axis_order=None):
        if order not in ("C", "F") or axis_order is not None:
            _refuse("numpy _frombuffer called with unexpected arguments")
        return _array_from_bytes(buffer, dtype, shape, order)


class _EncodeLatin1(_Global):
    """``_codecs.encode(text, 'latin1')``: how Python 3 writes bytes in protocol 2."""

    __slots__ = ()

    def __call__(self, text, encoding):
        if not isinstance(text, str) or encoding != "latin1":
            _refuse("_codecs.encode called with unexpected arguments")
        return text.encode("latin1")


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _Reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _Reconstruct(),
    ("numpy", "ndarray"): _NdarrayMarker(),
    ("numpy", "dtype"): _Dtype(),
    ("numpy.core.numeric", "_frombuffer"): _FromBuffer(),
    ("numpy._core.numeric", "_frombuffer"): _FromBuffer(),
    ("_codecs", "encode"): _EncodeLatin1(),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _RefusedGlobal(module, name) from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent ids are not part of the format")


class _RefusedGlobal(pickle.UnpicklingError):
    def __init__(self, module, name):
        super().__init__(f"{module}.{name}")
        self.qualified_name = f"{module}.{name}"


class _Finisher:
    """Replaces every ``_ArrayState`` by its array and checks the result is plain data
    (see the module docstring), converting each shared object once."""

    def __init__(self, source, max_array_bytes):
        self.source = source
        self.budget = max_array_bytes  # array bytes still allowed
        self.done = {}  # id(container or state) -> its converted value

    def finish(self, value, depth=0):
        if depth > 20:
            raise DatasetCorruptError(f"{self.source}: data nested deeper than the format allows")
        if value is None or isinstance(value, (str, bytes, bool, numbers.Number)):
            return value
        key = id(value)
        if key not in self.done:
            self.done[key] = self._convert(value, depth)
        return self.done[key]

    def _convert(self, value, depth):
        if isinstance(value, _ArrayState):
            if value.array is None:
                raise DatasetCorruptError(f"{self.source}: a numpy array without its data")
            return self._spend(value.array)
        if isinstance(value, np.ndarray):  # from _frombuffer
            return self._spend(value)
        if isinstance(value, (list, tuple)):
            items = [self.finish(item, depth + 1) for item in value]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, dict):
            if not all(isinstance(key, (str, bytes, int)) for key in value):
                raise DatasetCorruptError(f"{self.source}: dict keys must be str, bytes or int")
            return {key: self.finish(item, depth + 1) for key, item in value.items()}
        raise DatasetCorruptError(f"{self.source}: unexpected object of type {type(value).__name__}")

    def _spend(self, array):
        self.budget -= array.nbytes
        if self.budget < 0:
            raise DatasetCorruptError(
                f"{self.source}: its arrays hold more bytes than the file has; the same data is "
                "reused to build arrays again and again (not an official data file)"
            )
        return array


def _str_keys(mapping):
    """Python-2 pickles give str keys under latin1, Python-3 ones may give bytes."""
    return {
        (key.decode("latin1") if isinstance(key, bytes) else key): value
        for key, value in mapping.items()
    }


def safe_load_dict(payload, source):
    """Unpickle ``payload`` (bytes) into a dict with str keys, refusing any code.

    source: a name for error messages (the file path, or "archive.tar.gz:member").
    ``encoding="latin1"`` is what NumPy documents for Python-2 pickles of arrays: the
    raw bytes of the array arrive as a latin1 str and NumPy turns them back into bytes.
    """
    try:
        value = _RestrictedUnpickler(io.BytesIO(payload), encoding="latin1").load()
    except _RefusedGlobal as refused:
        raise DatasetCorruptError(
            f"{source}: refused to unpickle: the file asks for the Python object "
            f"'{refused.qualified_name}', which this data format never contains. The file is "
            "not an official data file and may be malicious; nothing in it was executed. "
            "Delete it and get the official file."
        ) from None
    except DatasetCorruptError:
        raise
    except Exception as error:  # UnpicklingError, EOFError, ValueError from numpy, ...
        raise DatasetCorruptError(
            f"{source}: not a valid data pickle ({type(error).__name__}: {error}); "
            "the file is truncated or corrupt"
        ) from error
    if not isinstance(value, dict):
        raise DatasetCorruptError(
            f"{source}: expected a pickled dict, got {type(value).__name__}"
        )
    return _str_keys(_Finisher(source, len(payload)).finish(value))
