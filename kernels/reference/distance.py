"""Pairwise distances between two sets of vectors in NumPy: the "distance" kernel family.

A nearest-neighbour classifier spends all its time here: the distance from every query
vector to every training vector.

Notation
--------
    x1   (Q, D)   Q query vectors of D features each (a flattened image: D = C*H*W)
    x2   (T, D)   T training (reference) vectors
    d    (Q, T)   d[q, t] = the distance between row q of x1 and row t of x2

Both arrays are float32 or float64 (the same dtype); d has that dtype.

L2: one matrix product
----------------------
    squared_l2_distances:  d[q, t] = sum over i of (x1[q, i] - x2[t, i])^2
                                   = |x1[q]|^2 + |x2[t]|^2 - 2 * (x1 @ x2^T)[q, t]

The expansion turns Q*T*D subtractions into one GEMM (BLAS on the CPU, cuBLAS on the
GPU: the fastest loop a machine has) plus two vectors of squared norms, summed in
float64. Every implementation then combines the three in the same order,
``(n1[q] + n2[t]) - 2 * gram[q, t]``, and clamps at 0: rounding can leave a tiny
negative where the true distance is 0. The distances are squared: the square root
changes no ranking, so a classifier takes it only for the distances it reports.

How exact is it? In float64 with integer-valued inputs (raw pixels 0..255) every
product and every partial sum is an integer below 2^53 (the largest, |x|^2, is at most
3072 * 255^2 < 2^28 for a CIFAR image), so each of the three terms is exact whatever
the summation order, and so is the distance: ties between equally distant images are
real ties. In float32 (24-bit mantissa) the same terms are rounded: the error is about
2^-24 * (|x1[q]|^2 + |x2[t]|^2), which can reorder neighbours that are nearly tied, and
can be large RELATIVE to a small distance between two large vectors (cancellation).

L1: a loop
----------
    l1_distances:  d[q, t] = sum over i of |x1[q, i] - x2[t, i]|

No product form exists, so every implementation loops over (q, t, i). This reference
takes blocks of query rows and lets NumPy broadcast ``x1[block, None, :] - x2[None]``,
a (rows, T, D) intermediate kept under _BLOCK_BYTES (at least one row). The
Numba and CUDA kernels tile the (q, t) plane instead (see their docstrings). The three
add the D terms in different orders (NumPy pairwise, CUDA in order i = 0, 1, ..., Numba
in SIMD lanes), so float32 results may differ in the last bits. With integer-valued
inputs every partial sum is exact as long as it stays below 2^24 (pixels: 255 * 3072 <
2^20), so all three agree exactly, in float32 and float64 alike.

Exported kernels (the same names and signatures in kernels/cpu/distance.py and
kernels/cuda/distance.py):
    squared_l2_distances(x1, x2) -> d (Q, T)
    l1_distances(x1, x2) -> d (Q, T)
The callers (minitorch_cv.neighbors) choose how many query rows go into one call, so
that d stays under their memory limit.
"""
import numpy as np

# Bytes of the (rows, T, D) difference array of one block of l1_distances.
_BLOCK_BYTES = 64 * 2**20


def _validate_pair(x1, x2):
    """x1 (Q, D) and x2 (T, D): 2-D, the same number of features, the same float dtype.
    Raises before any kernel runs."""
    for name, x in (("x1", x1), ("x2", x2)):
        if x.ndim != 2:
            raise ValueError(f"{name}: expected a 2-D array (vectors, features), got shape {x.shape}")
        if x.dtype not in (np.float32, np.float64):
            raise TypeError(f"{name}: expected float32 or float64, got {x.dtype}")
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(
            f"x2: expected {x1.shape[1]} features per row (as x1 has), got shape {x2.shape}"
        )
    if x1.dtype != x2.dtype:
        raise TypeError(f"x2: expected dtype {x1.dtype} (that of x1), got {x2.dtype}")


def _squared_norms(x):
    """|x[r]|^2 for every row r, summed in float64, returned in x's dtype."""
    x64 = x.astype(np.float64)
    return (x64 * x64).sum(axis=1).astype(x.dtype)


def squared_l2_distances(x1, x2):
    """d[q, t] = max((|x1[q]|^2 + |x2[t]|^2) - 2 * (x1 @ x2^T)[q, t], 0)."""
    _validate_pair(x1, x2)
    n1 = _squared_norms(x1)
    n2 = _squared_norms(x2)
    gram = x1 @ x2.T  # the one GEMM
    d = (n1[:, None] + n2[None, :]) - 2 * gram
    return np.maximum(d, 0).astype(x1.dtype, copy=False)


def l1_distances(x1, x2):
    """d[q, t] = sum over i of |x1[q, i] - x2[t, i]|, a block of query rows at a time."""
    _validate_pair(x1, x2)
    Q, D = x1.shape
    T = x2.shape[0]
    d = np.empty((Q, T), dtype=x1.dtype)
    rows = max(1, _BLOCK_BYTES // max(1, T * D * x1.itemsize))
    for start in range(0, Q, rows):
        block = x1[start : start + rows]
        d[start : start + rows] = np.abs(block[:, None, :] - x2[None, :, :]).sum(axis=2)
    return d
