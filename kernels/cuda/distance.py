"""Launch wrappers of kernels/cuda/distance.cu: the CUDA implementation of "distance".

Same names and signatures as kernels/reference/distance.py (read its docstring for the
formulas); the comment blocks in distance.cu give the thread mapping. The wrappers
serve CuPy arrays (GPU) and NumPy arrays (the CPU emulation of CUDA) alike; the GEMM of
the L2 distances is the array module's matmul (cuBLAS on the GPU).
"""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.distance import _validate_pair
from .runtime import CudaSource, grid_1d

_SOURCE = CudaSource("distance.cu")
_L1_TILE = 16  # must equal L1_TILE in distance.cu


def _row_squared_norms(x):
    rows, D = x.shape
    norms = namespace(x).empty(rows, dtype=x.dtype)
    _SOURCE.launch_per_element("row_squared_norms", rows, (x, norms, np.int64(rows), np.int64(D)))
    return norms


def squared_l2_distances(x1, x2):
    """d[q, t] = max((|x1[q]|^2 + |x2[t]|^2) - 2 * (x1 @ x2^T)[q, t], 0): two norm kernels,
    one GEMM, then l2_from_gram in place on the GEMM's (contiguous) output."""
    _validate_pair(x1, x2)
    xp = namespace(x1)
    n1 = _row_squared_norms(x1)
    n2 = _row_squared_norms(x2)
    d = xp.ascontiguousarray(xp.matmul(x1, x2.T))
    total = d.size
    _SOURCE.launch_per_element("l2_from_gram", total, (n1, n2, d, np.int64(total), np.int64(x2.shape[0])))
    return d


def l1_distances(x1, x2):
    """d[q, t] = sum over i of |x1[q, i] - x2[t, i]|: one block of L1_TILE x L1_TILE
    threads per tile of d."""
    _validate_pair(x1, x2)
    Q, D = x1.shape
    T = x2.shape[0]
    d = namespace(x1).empty((Q, T), dtype=x1.dtype)
    if d.size == 0:  # a grid needs at least one block; there is nothing to compute
        return d
    grid = (grid_1d(T, _L1_TILE), grid_1d(Q, _L1_TILE))
    _SOURCE.launch("l1_distances", grid=grid, block=(_L1_TILE, _L1_TILE),
                   args=(x1, x2, d, np.int64(Q), np.int64(T), np.int64(D)))
    return d
