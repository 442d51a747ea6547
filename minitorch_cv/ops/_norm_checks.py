"""Argument checks shared by the normalization ops (batch, layer, group, LRN).

Each raises before any kernel runs, naming the argument and what was expected.
"""
import numbers

import numpy as np

from ..tensor import Tensor

FLOAT_DTYPES = (np.dtype("float32"), np.dtype("float64"))  # what the kernels are built for


def check_input(name, input, min_ndim, expected):  # noqa: A002 - PyTorch's argument name
    """``input`` is a float32/float64 Tensor with at least ``min_ndim`` dims."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name}: input must be a float32 or float64 tensor, got dtype {input.dtype}"
        )
    if input.ndim < min_ndim:
        raise ValueError(f"{name}: input: expected {expected}, got shape {input.shape}")


def check_per_channel(name, arg, value, shape, input):  # noqa: A002
    """``value`` is None or a Tensor of ``shape`` with the dtype and device of ``input``."""
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
    if value.device != input.device:
        raise RuntimeError(
            f"{name}: {arg}: expected device {input.device} (that of input), got {value.device}"
        )


def check_positive(name, arg, value):
    """A real number > 0 (eps, alpha-like constants); returns it as a Python float."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}: {arg} must be a number, got {type(value).__name__}")
    if not value > 0:
        raise ValueError(f"{name}: {arg}: expected a value > 0, got {value}")
    return float(value)


def check_number(name, arg, value):
    """A real number (not a bool); returns it as a Python float."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}: {arg} must be a number, got {type(value).__name__}")
    return float(value)


def check_more_than_one_value(name, input, count):  # noqa: A002
    """PyTorch's training-mode check: statistics of a single value are meaningless."""
    if count == 1:
        raise ValueError(
            f"{name}: Expected more than 1 value per channel when training, got input size "
            f"{input.shape}"
        )
