"""Scatter-add in Numba (see kernels/reference/scatter.py).

The CUDA kernel runs one thread per value and resolves collisions (repeated indices)
with atomicAdd. Numba has no atomic add on array elements, and a prange over the
values would race on out[index[i]]; per-thread copies of out would cost threads x
size memory for a loop that is limited by memory bandwidth anyway. So this one is a
sequential loop: race-free and deterministic (additions in index order, like the
reference's np.add.at).
"""
import numpy as np
from numba import njit

from ..reference.scatter import _validate_scatter_add


def scatter_add(index, values, size):
    """out = zeros(size); out[index[i]] += values[i] for every i."""
    _validate_scatter_add(index, values, size)
    out = np.zeros(int(size), dtype=values.dtype)
    _scatter_add(np.ascontiguousarray(index), np.ascontiguousarray(values), out, values.size)
    return out


@njit(cache=True)
def _scatter_add(index, values, out, total):
    """No prange, on purpose (see the module docstring): i runs over the values in order."""
    for i in range(total):
        out[index[i]] += values[i]
