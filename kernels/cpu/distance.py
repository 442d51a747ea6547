"""Pairwise distances in Numba: the CPU implementation of the "distance" family.

The formulas are those of kernels/reference/distance.py (read its docstring first):
x1 (Q, D) queries, x2 (T, D) training rows, d (Q, T). Each loop mirrors its CUDA twin in
kernels/cuda/distance.cu, with the same names.

L2 is two norm loops, one GEMM (NumPy's matmul, i.e. BLAS) and a loop that turns the
GEMM's output into distances in place. L1 is a tiled loop over the (q, t) plane.
"""
import numpy as np
from numba import njit, prange

from ..reference.distance import _validate_pair

_L1_TILE = 16  # the tile side of l1_distances, L1_TILE in distance.cu


@njit(parallel=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _row_squared_norms(x, norms):
    """norms[r] = sum over i of x[r, i]^2, summed in float64. prange over rows (the
    GPU's one thread per row): rows are independent."""
    rows, D = x.shape
    for r in prange(rows):
        total = 0.0
        for i in range(D):
            value = np.float64(x[r, i])
            total += value * value
        norms[r] = total


@njit(parallel=True, cache=True)
def _l2_from_gram(n1, n2, d):
    """d[q, t] = max((n1[q] + n2[t]) - 2 * d[q, t], 0), in place. The CUDA kernel runs one
    thread per element and decodes t = index % T, q = index / T; here the prange runs
    over the rows q and the inner loop over t (contiguous, it vectorizes)."""
    Q, T = d.shape
    two = d.dtype.type(2)  # typed constants: float32 arithmetic stays float32, as in CUDA
    zero = d.dtype.type(0)
    for q in prange(Q):
        for t in range(T):
            value = (n1[q] + n2[t]) - two * d[q, t]
            d[q, t] = value if value > zero else zero


def squared_l2_distances(x1, x2):
    """d[q, t] = max((|x1[q]|^2 + |x2[t]|^2) - 2 * (x1 @ x2^T)[q, t], 0)."""
    _validate_pair(x1, x2)
    x1 = np.ascontiguousarray(x1)
    x2 = np.ascontiguousarray(x2)
    n1 = np.empty(x1.shape[0], dtype=x1.dtype)
    n2 = np.empty(x2.shape[0], dtype=x2.dtype)
    _row_squared_norms(x1, n1)
    _row_squared_norms(x2, n2)
    d = np.ascontiguousarray(x1 @ x2.T)  # the one GEMM (BLAS)
    _l2_from_gram(n1, n2, d)
    return d


# error_model="numpy": no division checks in the loops. fastmath reassoc: lets LLVM add
# the D terms of one distance in SIMD lanes (about 15 times faster on a 2-core AVX2
# machine) in an order of its choosing: float32 results may differ from CUDA's in the
# last bits (exact sums, such as pixels', are identical).
@njit(parallel=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _l1_distances(x1, x2, d):
    """d[q, t] = sum over i of |x1[q, i] - x2[t, i]|, tile by tile as the CUDA blocks.

    The prange runs over the rows of tiles (CUDA's blockIdx.y): each iteration owns
    L1_TILE rows of d, so no two write the same element. Inside, the column tiles
    (blockIdx.x), then the tile's rows and columns (threadIdx.y, threadIdx.x). The CUDA
    kernel stages each chunk of features in shared memory so that a block reads every
    value once; here the caches do that work: the tile's L1_TILE training rows stay in
    cache while all L1_TILE query rows of the tile are compared with them.
    """
    Q, D = x1.shape
    T = x2.shape[0]
    row_tiles = (Q + _L1_TILE - 1) // _L1_TILE
    column_tiles = (T + _L1_TILE - 1) // _L1_TILE
    for by in prange(row_tiles):
        q0 = by * _L1_TILE
        for bx in range(column_tiles):
            t0 = bx * _L1_TILE
            for q in range(q0, min(q0 + _L1_TILE, Q)):
                for t in range(t0, min(t0 + _L1_TILE, T)):
                    acc = x1.dtype.type(0)  # summed in the inputs' dtype, as in CUDA
                    for i in range(D):
                        acc += abs(x1[q, i] - x2[t, i])
                    d[q, t] = acc


def l1_distances(x1, x2):
    """d[q, t] = sum over i of |x1[q, i] - x2[t, i]|."""
    _validate_pair(x1, x2)
    d = np.empty((x1.shape[0], x2.shape[0]), dtype=x1.dtype)
    _l1_distances(np.ascontiguousarray(x1), np.ascontiguousarray(x2), d)
    return d
