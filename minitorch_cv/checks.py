"""Argument checks shared by the layers (``nn``) and the ops: one function per kind of
argument, one exception type per kind of mistake.

Every check raises before any kernel runs, with a message that starts with the caller's
name and names the argument and what was expected, e.g.
``conv2d: stride must be >= 1 along each axis, got (1, 0)``. The exception type says what
kind of mistake it is, as in PyTorch:

    TypeError     the argument has the wrong type: stride=1.5, stride=(1, 1, 1) where an
                  int or a pair is expected, a list where a Tensor is expected, an int64
                  tensor where floats are needed, tensors of different dtypes
    ValueError    the type is right but the value is not: stride=0, eps=0, a weight of the
                  wrong shape, channels that groups do not divide
    RuntimeError  tensors on different devices

A wrong type where an int or a pair of ints is expected raises ``ArgumentTypeError``, a
TypeError that is also a ValueError: the layers raised ValueError for it before these
checks were shared (``nn.Linear(3, 2.5)``), and code written then may catch that.

Who checks what: a module checks its constructor arguments when it is built (a bad model
fails where it is defined), a functional op checks its arguments at each call, and both
call these functions, so a mistake raises the same exception wherever it is made. Kernels
receive arguments that are already valid.
"""
import numbers

import numpy as np

from . import dtypes
from .tensor import Tensor

# What the kernels are built for (float and double in CUDA).
FLOAT_DTYPES = (dtypes.float32, dtypes.float64)


class ArgumentTypeError(TypeError, ValueError):
    """An argument that should be an int (or a pair of ints) is not one."""


def is_int(value):
    """A Python or NumPy integer, not a bool."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def integer(name, arg, value, minimum=None):
    """``value`` as a Python int, at least ``minimum`` when one is given."""
    if not is_int(value):
        raise ArgumentTypeError(f"{name}: {arg} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: {arg} must be >= {minimum}, got {value!r}")
    return int(value)


def pair(name, arg, value, minimum=None):
    """An int, or a sequence of one or two ints, as a (height, width) pair of Python ints
    (PyTorch's ``_pair``: 3 -> (3, 3), (2, 3) -> (2, 3)); each at least ``minimum`` when
    one is given."""
    if is_int(value):
        values = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(is_int(v) for v in value):
        values = (value[0], value[-1])
    else:
        raise ArgumentTypeError(f"{name}: {arg} must be an int or a pair of ints, got {value!r}")
    values = (int(values[0]), int(values[1]))
    if minimum is not None and min(values) < minimum:
        raise ValueError(f"{name}: {arg} must be >= {minimum} along each axis, got {value!r}")
    return values


def number(name, arg, value):
    """A real number (not a bool), as a Python float."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}: {arg} must be a number, got {type(value).__name__}")
    return float(value)


def positive_number(name, arg, value):
    """A real number > 0 (eps and the like), as a Python float."""
    value = number(name, arg, value)
    if not value > 0:
        raise ValueError(f"{name}: {arg}: expected a value > 0, got {value:g}")
    return value


def floating_dtype(name, dtype):
    """A ``dtype=`` argument of a layer: None (the default float) or a floating type."""
    resolved = dtypes.resolve(dtype) or dtypes.DEFAULT_FLOAT
    if not dtypes.is_floating(resolved):
        raise TypeError(f"{name}: dtype must be floating point, got {resolved}")
    return resolved


def tensor(name, arg, value):
    """``value`` is a Tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: {arg} must be a Tensor, got {type(value).__name__}")


def float_tensor(name, arg, value):
    """``value`` is a float32 or float64 Tensor (the dtypes the kernels are built for)."""
    tensor(name, arg, value)
    if value.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name}: {arg} must be a floating-point tensor (float32 or float64), got dtype "
            f"{value.dtype}"
        )


def min_ndim(name, input, ndim, expected):  # noqa: A002
    """``input`` has at least ``ndim`` dims; ``expected`` describes the accepted shapes."""
    if input.ndim < ndim:
        raise ValueError(f"{name}: input: expected {expected}, got shape {input.shape}")


def same_device(name, arg, value, input):  # noqa: A002 - PyTorch's argument name
    """``value`` is on the device of ``input``."""
    if value.device != input.device:
        raise RuntimeError(
            f"{name}: {arg} is on {value.device} but input is on {input.device}; "
            "expected the same device"
        )


def per_channel(name, arg, value, shape, input):  # noqa: A002
    """``value`` is None, or a Tensor of ``shape`` with the dtype and device of ``input``
    (weight, bias and running statistics of the normalizations)."""
    if value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: {arg} must be a Tensor or None, got {type(value).__name__}")
    if value.shape != tuple(shape):
        raise ValueError(
            f"{name}: {arg}: expected shape {tuple(shape)} to match input of shape "
            f"{input.shape}, got shape {value.shape}"
        )
    if value.dtype != input.dtype:
        raise TypeError(
            f"{name}: {arg}: expected dtype {input.dtype} (that of input), got {value.dtype}"
        )
    same_device(name, arg, value, input)


def conv_padding(name, padding, kernel_size, stride, dilation):
    """The (top, bottom, left, right) zero padding that a convolution's ``padding`` means.

    padding: an int or a pair (PH, PW) >= 0, "valid" (none) or "same" (stride 1 only: the
    output has the input's size; the total DH * (KH - 1) along an axis is split with the
    odd row or column at the bottom or right, as in PyTorch). kernel_size, stride,
    dilation: pairs, already checked.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(
                f"{name}: padding must be 'valid', 'same', an int or a pair of ints; got the "
                f"string {padding!r}, expected 'valid' or 'same'"
            )
        if tuple(stride) != (1, 1):
            raise ValueError(
                f"{name}: padding='same' needs stride 1 (PyTorch does not support it for "
                f"strided convolutions), got stride={tuple(stride)}"
            )
        amounts = []
        for k, d in zip(kernel_size, dilation):
            total = d * (k - 1)
            amounts += [total // 2, total - total // 2]
        return tuple(amounts)
    PH, PW = pair(name, "padding", padding, minimum=0)
    return (PH, PH, PW, PW)


def more_than_one_value(name, input, count):  # noqa: A002
    """PyTorch's training-mode check of batch and group norm: statistics of a single value
    are meaningless."""
    if count == 1:
        raise ValueError(
            f"{name}: Expected more than 1 value per channel when training, got input size "
            f"{input.shape}"
        )
