"""Scatter-add: the launch wrapper of kernels/cuda/scatter.cu (GPU or CPU emulation)."""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.scatter import _validate_scatter_add
from .runtime import CudaSource

_SOURCE = CudaSource("scatter.cu")


def scatter_add(index, values, size):
    """out = zeros(size); out[index[i]] += values[i] for every i. One thread per value,
    atomicAdd into out: with repeated indices the float sum's order varies per run."""
    _validate_scatter_add(index, values, size)
    out = namespace(values).zeros(int(size), dtype=values.dtype)  # contiguous, starts at 0
    total = values.size
    _SOURCE.launch_per_element(
        "scatter_add", total,
        (index, values, out, np.int64(total)),
    )
    return out
