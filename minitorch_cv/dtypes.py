"""Data types: ``minitorch_cv.float32`` and friends, PyTorch's names for NumPy dtypes.

Arrays keep NumPy's dtypes; a ``dtype`` object is the face a tensor shows
(``x.dtype``). Its repr is PyTorch's name (``minitorch_cv.float32``; ``str()`` gives the
bare ``float32``, which error messages use) and it stands for its NumPy dtype everywhere:

    x.dtype == mt.float32 == np.float32 == np.dtype("float32") == "float32"
    np.zeros(3, dtype=mt.float32)         # NumPy (and CuPy) accept it
    np.dtype(mt.float32)                  # -> dtype('float32')

(NumPy reads the ``.dtype`` attribute of any object it is given as a dtype.) It hashes
like its NumPy dtype, so ``{np.dtype("float32"): ...}[x.dtype]`` works; like NumPy's own
dtypes it does not hash like the scalar type ``np.float32``.

PyTorch's aliases: ``float = float32``, ``double = float64``, ``half = float16``,
``int = int32``, ``long = int64``, ``short = int16``, ``bool`` (exported from the package
``__init__``, where shadowing the builtins is harmless).

The default floating dtype (``get_default_dtype``/``set_default_dtype``, float32 unless
changed) is what Python floats and the constant and random constructors produce, and
what layers create their parameters in, as in PyTorch.
"""
import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """One element type (see the module docstring). Build none yourself: use the module
    constants, or ``of(numpy_dtype)``."""

    __slots__ = ("numpy", "torch_name")

    def __init__(self, numpy_dtype, torch_name):
        self.numpy = np.dtype(numpy_dtype)
        self.torch_name = torch_name

    @property
    def dtype(self):
        """The NumPy dtype (what NumPy and CuPy read when given this object as a dtype)."""
        return self.numpy

    # PyTorch's attributes
    @property
    def is_floating_point(self):
        return self.numpy.kind == "f"

    @property
    def is_complex(self):
        return self.numpy.kind == "c"

    @property
    def is_signed(self):
        return self.numpy.kind in "fic"

    @property
    def itemsize(self):
        return self.numpy.itemsize

    def __getattr__(self, name):
        # NumPy's attributes (kind, name, type, char, str, ...) for code that read them
        # when tensors showed NumPy dtypes. Only called for names not found otherwise.
        if name.startswith("__") or name in dtype.__slots__:
            raise AttributeError(name)
        return getattr(self.numpy, name)

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.numpy == other.numpy
        if other is None:  # np.dtype(None) would be float64
            return False
        try:
            return self.numpy == np.dtype(other)
        except (TypeError, ValueError):
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.numpy)

    def __repr__(self):
        return f"minitorch_cv.{self.torch_name}"

    def __str__(self):
        # The bare name, so that messages ("expected dtype float32") read as before.
        return self.torch_name

    def __reduce__(self):
        return (of, (self.numpy.str,))


float16 = dtype("float16", "float16")
float32 = dtype("float32", "float32")
float64 = dtype("float64", "float64")
int8 = dtype("int8", "int8")
uint8 = dtype("uint8", "uint8")
int16 = dtype("int16", "int16")
int32 = dtype("int32", "int32")
int64 = dtype("int64", "int64")
bool_ = dtype("bool", "bool")

# PyTorch spellings
half = float16
double = float64
long = int64
short = int16

_SUPPORTED = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
_BY_NUMPY = {d.numpy: d for d in _SUPPORTED}
_FLOATING = (float16, float32, float64)

# The NumPy dtype of Python floats and of the constant and random constructors. Read it
# as ``dtypes.DEFAULT_FLOAT`` at call time: ``set_default_dtype`` rebinds it.
DEFAULT_FLOAT = np.dtype("float32")


def of(numpy_dtype):
    """The ``dtype`` object of a NumPy dtype (what ``Tensor.dtype`` returns)."""
    numpy_dtype = np.dtype(numpy_dtype)
    found = _BY_NUMPY.get(numpy_dtype)
    return found if found is not None else dtype(numpy_dtype, numpy_dtype.name)


def resolve(dtype):
    """Turn ``None``/a string/a NumPy type/a dtype into a supported ``np.dtype``."""
    if dtype is None:
        return None
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in _BY_NUMPY:
        raise TypeError(
            f"dtype: expected one of {[str(d) for d in _SUPPORTED]}, got {dtype!r}"
        )
    return resolved


def is_floating(dtype):
    return np.dtype(dtype).kind == "f"


def get_default_dtype():
    """The default floating dtype (``minitorch_cv.float32`` unless changed)."""
    return of(DEFAULT_FLOAT)


def set_default_dtype(d):
    """Make ``d`` (float16, float32 or float64) the default floating dtype, as
    ``torch.set_default_dtype``: Python floats, ``zeros``/``randn``/... and new layers'
    parameters use it. Process-wide (not per thread), as in PyTorch."""
    global DEFAULT_FLOAT
    resolved = np.dtype(d) if d is not None else None
    if resolved is None or resolved.kind != "f" or resolved not in _BY_NUMPY:
        raise TypeError(
            f"set_default_dtype: expected a floating dtype ({[str(f) for f in _FLOATING]}), "
            f"got {d!r}"
        )
    DEFAULT_FLOAT = resolved
