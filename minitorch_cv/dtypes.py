"""Data types: minitorch_cv uses NumPy's dtype objects directly.

``mt.float32`` is ``numpy.dtype("float32")``, so a tensor's ``dtype`` compares equal
to ``np.float32``, ``"float32"`` and ``mt.float32`` alike.
"""
import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

# PyTorch spellings
half = float16
double = float64
long = int64

DEFAULT_FLOAT = float32

_SUPPORTED = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)


def resolve(dtype):
    """Turn ``None``/a string/a NumPy type/a dtype into a supported ``np.dtype``."""
    if dtype is None:
        return None
    resolved = np.dtype(dtype)
    if resolved not in _SUPPORTED:
        raise TypeError(f"dtype: expected one of {[str(d) for d in _SUPPORTED]}, got {dtype!r}")
    return resolved


def is_floating(dtype):
    return np.dtype(dtype).kind == "f"
