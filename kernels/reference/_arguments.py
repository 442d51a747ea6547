"""Checks of the arguments of the public kernels, shared by the three implementations.

The ops validate what users pass before any kernel runs (``minitorch_cv/checks.py``);
these checks make every kernel safe to call directly too, whoever calls it: a Numba or
CUDA kernel never receives an array of the wrong rank, shape or dtype, a size that does
not fit the C ``int`` of a CUDA kernel's parameters and index arithmetic, or an index it
would follow outside an array (a class target, a pooling index). Each family's
reference module builds its ``_check_<kernel>`` functions from these, and the three
implementations call them first. As in the ops: ``TypeError`` for a wrong type,
``ValueError`` for a wrong value or shape, ``IndexError`` for an index out of range;
every message starts with the kernel's name and names the argument.

Index checks run where an index is followed, each time: indices in memory shared with
NumPy can change between the forward and the backward, so checking them once in the
op would not protect the kernel.
"""
import numbers

import numpy as np

INT32_MAX = 2**31 - 1  # a CUDA kernel's int parameters and int index arithmetic
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "ndim")


def float_array(kernel, name, value, ndim=None, shape=None, dtype=None):
    """``value`` is a float32/float64 array (of ``ndim`` dims, of ``shape``, of
    ``dtype`` when given); returns its shape."""
    if not _is_array(value):
        raise TypeError(f"{kernel}: {name} must be a NumPy or CuPy array, got {type(value).__name__}")
    if np.dtype(value.dtype) not in FLOAT_DTYPES:
        raise TypeError(f"{kernel}: {name} must be float32 or float64, got {value.dtype}")
    if dtype is not None and np.dtype(value.dtype) != np.dtype(dtype):
        raise TypeError(f"{kernel}: {name} must have the dtype {np.dtype(dtype)} of the other arrays, got {value.dtype}")
    _check_shape(kernel, name, value, ndim, shape)
    return tuple(value.shape)


def index_array(kernel, name, value, ndim=None, shape=None):
    """``value`` is an integer array (of ``ndim`` dims, of ``shape``); returns its shape."""
    if not _is_array(value):
        raise TypeError(f"{kernel}: {name} must be a NumPy or CuPy array, got {type(value).__name__}")
    if np.dtype(value.dtype).kind not in "iu":
        raise TypeError(f"{kernel}: {name} must be an integer (int64) array, got {value.dtype}")
    _check_shape(kernel, name, value, ndim, shape)
    return tuple(value.shape)


def _check_shape(kernel, name, value, ndim, shape):
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{kernel}: {name} must have {ndim} dims, got shape {tuple(value.shape)}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ValueError(f"{kernel}: {name} must have shape {tuple(shape)}, got {tuple(value.shape)}")


def indices_within(kernel, name, indices, size, allowed=None):
    """Every entry of ``indices`` is in [0, size) or equals ``allowed`` (ignore_index, or
    -1 for a pooling window that covered no input); IndexError otherwise."""
    if indices.size == 0:
        return
    bad = (indices < 0) | (indices >= size)
    if allowed is not None:
        bad &= indices != allowed
    if bool(bad.any()):
        value = int(indices[bad].ravel()[0])
        also = f" or {allowed}" if allowed is not None else ""
        raise IndexError(f"{kernel}: {name} holds {value}, outside [0, {size}){also}")


def integer(kernel, name, value, minimum=0):
    """``value`` is an int (Python or NumPy) in [minimum, INT32_MAX]; returns it as int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{kernel}: {name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if not minimum <= value <= INT32_MAX:
        raise ValueError(f"{kernel}: {name} must be in [{minimum}, {INT32_MAX}], got {name}={value}")
    return value


def integers(kernel, minimum=0, **values):
    """``integer`` for each keyword; returns the ints in order."""
    return tuple(integer(kernel, name, value, minimum) for name, value in values.items())


def extent(kernel, what, value):
    """A length computed from the arguments (a padded size, a dilated kernel) must fit a
    C int too, since the CUDA kernels compute positions in int."""
    if value > INT32_MAX:
        raise ValueError(f"{kernel}: {what} = {value} does not fit a 32-bit int (at most {INT32_MAX})")


def number(kernel, name, value):
    """A finite real number (eps, alpha, a scale)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{kernel}: {name} must be a finite number, got {value!r}")
    return value
