"""Unpickle data files without letting them run code.

A pickle is a small program: ``GLOBAL os system`` followed by ``REDUCE`` calls
``os.system(...)`` while the file is being *read*. ``pickle.load`` on a file from the
internet is therefore code execution. The official CIFAR-10 "python version" batches are
pickles (written by Python 2, protocol 2), so they must be read with a restricted
unpickler: every global the stream names goes through ``find_class``, and ours answers
only the three names that a pickled NumPy array needs. Checked against the real files
with ``pickletools.genops``: a data batch names exactly

    numpy.core.multiarray._reconstruct   build an empty array (NumPy 2 spells the module
                                         numpy._core.multiarray; both are accepted)
    numpy.ndarray                        the class passed to _reconstruct
    numpy.dtype                          the element type ('u1')

and ``batches.meta`` names none. A file re-saved by Python 3 may also name
``_codecs.encode`` (protocol 2 spells bytes as ``encode(text, 'latin1')``) and
``numpy._core.numeric._frombuffer`` (protocol 5 arrays); both are accepted in the exact
form those writers use. Anything else (``os.system``, ``builtins.eval``,
``subprocess.Popen``, ...) raises ``DatasetCorruptError`` before it is called.

The three are narrowed further so that even they cannot be abused:
  - ``numpy.ndarray`` resolves to a marker that only ``_reconstruct`` accepts, so a
    stream cannot call ``ndarray(shape)`` to allocate arbitrary memory;
  - ``_reconstruct`` accepts only the arguments NumPy itself writes: (ndarray, (0,), 'b');
  - ``_frombuffer`` only reshapes a buffer already in the stream, with such a dtype;
  - ``_codecs.encode`` only turns a str into bytes with latin1;
  - ``dtype`` accepts only plain numeric types (bool, ints, floats): no object arrays,
    whose elements would be unpickled as arbitrary objects, no structured types.
After loading, the whole result is walked and must consist of dicts, lists, tuples,
str/bytes, numbers, None and numeric arrays only.
"""
import io
import numbers
import pickle

import numpy as np

from .errors import DatasetCorruptError

try:  # NumPy >= 2 moved the module; older versions only have numpy.core
    from numpy._core.multiarray import _reconstruct as _numpy_reconstruct
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import _reconstruct as _numpy_reconstruct


class _NdarrayMarker:
    """Stands for ``numpy.ndarray`` inside a pickle stream; deliberately not callable."""

    def __repr__(self):
        return "<numpy.ndarray (for _reconstruct only)>"


_NDARRAY = _NdarrayMarker()


def _reconstruct(subtype, shape, dtype_code):
    """NumPy's ``_reconstruct``, restricted to the exact call NumPy writes into pickles:
    an empty 1-d array that the following BUILD fills from the raw bytes."""
    if subtype is not _NDARRAY or tuple(shape) != (0,) or dtype_code not in (b"b", "b"):
        raise pickle.UnpicklingError(
            f"numpy _reconstruct called with unexpected arguments "
            f"({subtype!r}, {shape!r}, {dtype_code!r}); NumPy writes (ndarray, (0,), b'b')"
        )
    return _numpy_reconstruct(np.ndarray, (0,), b"b")


def _dtype(spec, align=False, copy=False):
    """``numpy.dtype`` restricted to plain numeric element types."""
    if isinstance(spec, bytes):
        spec = spec.decode("ascii")
    if not isinstance(spec, str):
        raise pickle.UnpicklingError(f"numpy dtype spec must be a string, got {spec!r}")
    dtype = np.dtype(spec, bool(align), bool(copy))
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise pickle.UnpicklingError(f"numpy dtype {dtype} is not a plain numeric type")
    return dtype


def _frombuffer(buffer, dtype, shape, order, axis_order=None):
    """NumPy's protocol-5 array constructor: view the in-stream buffer as an array."""
    if not isinstance(dtype, np.dtype) or order not in ("C", "F") or axis_order is not None:
        raise pickle.UnpicklingError("numpy _frombuffer called with unexpected arguments")
    shape = tuple(int(size) for size in shape)
    return np.frombuffer(buffer, dtype=_dtype(dtype.str)).reshape(shape, order=order).copy()


def _encode_latin1(text, encoding):
    """``_codecs.encode`` as Python 3 uses it to write bytes in protocol 2."""
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError("_codecs.encode called with unexpected arguments")
    return text.encode("latin1")


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("_codecs", "encode"): _encode_latin1,
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


def _check_plain(value, source, depth=0):
    """Raise unless ``value`` is built only from plain data (see the module docstring)."""
    if depth > 20:
        raise DatasetCorruptError(f"{source}: data nested deeper than the format allows")
    if value is None or isinstance(value, (str, bytes, bool, numbers.Number)):
        return
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray or value.dtype.kind not in "biuf":
            raise DatasetCorruptError(f"{source}: unexpected array of dtype {value.dtype}")
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(item, source, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key, source, depth + 1)
            _check_plain(item, source, depth + 1)
        return
    raise DatasetCorruptError(f"{source}: unexpected object of type {type(value).__name__}")


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
    _check_plain(value, source)
    return _str_keys(value)
