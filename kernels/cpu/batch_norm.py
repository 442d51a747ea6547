"""Batch normalization kernels with Numba: the CPU implementation of the ``batch_norm`` family.

Same names, signatures, layouts and formulas as ``kernels/reference/batch_norm.py`` (read
that file first). Each public function is a thin Python wrapper that validates, makes the
arrays contiguous, allocates the outputs and calls one ``@njit`` loop nest.

Each loop mirrors its CUDA twin in ``kernels/cuda/batch_norm.cu``: a reduction's
``prange`` runs over channels, as the GPU runs one block per channel (channels are
independent, so no two iterations write the same output); the block's threads stride over
j = n * S + s, which here is walked as two loops, n then s, so that the inner loop reads
contiguous memory and vectorizes. Elementwise passes run over the N * C rows (n, c) of S
contiguous values: the CUDA kernel decodes c = (index / S) % C per element, the loop
n = row // C, c = row % C once per row.

The loops index the arrays as (N, C, S) views, x[n, c, s], where the CUDA kernel computes
the flat offset (n * C + c) * S + s itself. Numba lets a negative index wrap around;
inside a ``prange`` body it could not prove a flat offset such as ``base + s``
non-negative and kept that test on every element, which stopped vectorization: written
that way the loops ran about ten times slower (a (128, 16, 1024) float32 input, one
thread, CPU time: 2.8 ms against 0.3 ms for the statistics and for scale_shift; the same
flat loop without ``prange``, or with an unsigned offset, was fast again).

Precision: reductions convert to float64 and accumulate in float64 scalars;
``fastmath={"reassoc"}`` lets LLVM reorder those sums across SIMD lanes (a different,
equally accurate rounding order). ``error_model="numpy"`` drops the ZeroDivisionError
checks that would stop vectorization.
"""
import numpy as np
from numba import njit, prange

from ..reference.batch_norm import _channel_geometry, _input_gradient_coefficients, _validate_channels

_REDUCE = {"reassoc"}  # reordering sums is all we allow: it vectorizes the float64 accumulators


def batch_norm_statistics(x):
    """mean[c] and biased var[c] over each channel's N * S values, in float64 (two passes)."""
    _validate_channels(x)
    x = np.ascontiguousarray(x)
    N, C, S = _channel_geometry(x)
    mean = np.empty(C, np.float64)
    var = np.empty(C, np.float64)
    _batch_norm_statistics(x.reshape(N, C, S), mean, var)
    return mean, var


@njit(parallel=True, cache=True, error_model="numpy", fastmath=_REDUCE)
def _batch_norm_statistics(x, mean, var):
    N, C, S = x.shape
    M = N * S
    for c in prange(C):
        total = 0.0
        for n in range(N):
            for s in range(S):
                total += np.float64(x[n, c, s])
        channel_mean = total / M
        squares = 0.0
        for n in range(N):
            for s in range(S):
                deviation = np.float64(x[n, c, s]) - channel_mean
                squares += deviation * deviation
        mean[c] = channel_mean
        var[c] = squares / M


def batch_norm_scale_shift(x, scale, shift):
    """y[n, c, s] = x[n, c, s] * scale[c] + shift[c]."""
    _validate_channels(x, scale=scale, shift=shift)
    x = np.ascontiguousarray(x)
    N, C, S = _channel_geometry(x)
    y = np.empty(x.shape, dtype=x.dtype)
    scale, shift = np.ascontiguousarray(scale), np.ascontiguousarray(shift)
    _batch_norm_scale_shift(x.reshape(N, C, S), scale, shift, y.reshape(N, C, S))
    return y


@njit(parallel=True, cache=True, error_model="numpy")
def _batch_norm_scale_shift(x, scale, shift, y):
    N, C, S = x.shape
    for row in prange(N * C):
        c = row % C
        n = row // C
        a = scale[c]
        b = shift[c]
        for s in range(S):
            y[n, c, s] = x[n, c, s] * a + b


def batch_norm_backward_reduce(dy, x, mean, invstd):
    """sum_dy[c] = sum dy;  sum_dy_xhat[c] = sum dy * (x - mean[c]) * invstd[c]."""
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    N, C, S = _channel_geometry(x)
    sum_dy = np.empty(C, x.dtype)
    sum_dy_xhat = np.empty(C, x.dtype)
    _batch_norm_backward_reduce(dy.reshape(N, C, S), x.reshape(N, C, S), _flat(mean, x.dtype),
                                _flat(invstd, x.dtype), sum_dy, sum_dy_xhat)
    return sum_dy, sum_dy_xhat


@njit(parallel=True, cache=True, fastmath=_REDUCE, error_model="numpy")
def _batch_norm_backward_reduce(dy, x, mean, invstd, sum_dy, sum_dy_xhat):
    N, C, S = x.shape
    for c in prange(C):
        m = float(mean[c])
        total_dy = 0.0
        total_dy_centered = 0.0  # sum dy * (x - mean); times invstd once at the end
        for n in range(N):
            for s in range(S):
                total_dy += dy[n, c, s]
                total_dy_centered += float(dy[n, c, s]) * (x[n, c, s] - m)
        sum_dy[c] = total_dy
        sum_dy_xhat[c] = total_dy_centered * invstd[c]


def batch_norm_backward_input(dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat):
    """dx = weight[c] invstd[c] (dy - sum_dy[c] / M - xhat sum_dy_xhat[c] / M), M = N S.

    The wrapper folds it per channel into dx = A dy - B (x - mean) - K (float64, cast to
    x's dtype; see _input_gradient_coefficients), so the loop is one multiply-add chain
    per element.
    """
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    N, C, S = _channel_geometry(x)
    A, B, K = _input_gradient_coefficients(invstd, weight, sum_dy, sum_dy_xhat, N * S)
    dx = np.empty_like(x)
    _batch_norm_backward_input(dy.reshape(N, C, S), x.reshape(N, C, S), _flat(mean, x.dtype),
                               _flat(A, x.dtype), _flat(B, x.dtype), _flat(K, x.dtype),
                               dx.reshape(N, C, S))
    return dx


@njit(parallel=True, cache=True, error_model="numpy")
def _batch_norm_backward_input(dy, x, mean, A, B, K, dx):
    N, C, S = x.shape
    for row in prange(N * C):
        c = row % C
        n = row // C
        m = mean[c]
        a = A[c]
        b = B[c]
        k = K[c]
        for s in range(S):
            dx[n, c, s] = a * dy[n, c, s] - b * (x[n, c, s] - m) - k


def _flat(array, dtype):
    return np.ascontiguousarray(array, dtype=dtype).reshape(-1)
