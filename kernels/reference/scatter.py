"""Scatter-add: the specification of kernels/cpu/scatter.py and kernels/cuda/scatter.cu."""
import numpy as np


def _validate_scatter_add(index, values, size):
    """index: int64 1-D, values: float 1-D of the same length, size: an int >= 0, and
    every index in [0, size). Raises before any kernel runs (a kernel never sees an
    index it would write out of bounds)."""
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 0:
        raise ValueError(f"size: expected an int >= 0, got {size!r}")
    if index.ndim != 1 or index.dtype != np.int64:
        raise TypeError(f"index: expected a 1-D int64 array, got shape {index.shape} and dtype {index.dtype}")
    if values.ndim != 1 or values.dtype not in (np.float32, np.float64):
        raise TypeError(f"values: expected a 1-D float32 or float64 array, got shape {values.shape}, dtype {values.dtype}")
    if values.shape != index.shape:
        raise ValueError(f"values: expected the shape of index {index.shape}, got {values.shape}")
    if index.size:
        smallest, largest = int(index.min()), int(index.max())
        if smallest < 0:
            raise IndexError(f"index: value {smallest} is out of bounds for size {size} (expected 0 <= index < size)")
        if largest >= size:
            raise IndexError(f"index: value {largest} is out of bounds for size {size} (expected 0 <= index < size)")


def scatter_add(index, values, size):
    """out = zeros(size) of values' dtype; out[index[i]] += values[i] for every i
    (repeated indices accumulate)."""
    _validate_scatter_add(index, values, size)
    out = np.zeros(int(size), dtype=values.dtype)
    np.add.at(out, index, values)
    return out
