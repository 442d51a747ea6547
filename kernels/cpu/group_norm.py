"""Group normalization kernels with Numba: the CPU implementation of the ``group_norm`` family.

Same names, signatures, layouts and formulas as ``kernels/reference/group_norm.py`` (read
that file first); loops, precision (float64 reductions, two-pass statistics, elementwise
passes in the input dtype) and ``fastmath`` as described in ``kernels/cpu/layer_norm.py``.
Each ``prange`` iteration is a CUDA block of ``kernels/cuda/group_norm.cu`` (an (n, group)
or an (n, c)), or a row of its elementwise kernel.
"""
import math

import numpy as np
from numba import njit, prange

from ..reference.group_norm import _input_gradient_coefficients

_REDUCE = {"reassoc"}  # reordering sums is all we allow: it vectorizes the float64 accumulators


def group_norm_forward(x, weight, bias, G, eps):
    """Per-(n, group) statistics, then y = xhat * weight[c] + bias[c] (see the reference).

    prange over the N * G rows (n, g): the CG * S values of a group are contiguous in
    (N, C, S), starting at (n * C + g * CG) * S; one iteration owns one group.
    """
    x = np.ascontiguousarray(x)
    N, C, S = x.shape
    weight = _ones_if_none(weight, C, x.dtype)
    bias = _zeros_if_none(bias, C, x.dtype)
    y = np.empty_like(x)
    mean = np.empty((N, G), x.dtype)
    rstd = np.empty((N, G), x.dtype)
    _group_norm_forward(x.reshape(-1), weight, bias, N, C, S, G, float(eps),
                        y.reshape(-1), mean.reshape(-1), rstd.reshape(-1))
    return y, mean, rstd


@njit(parallel=True, cache=True, fastmath=_REDUCE, error_model="numpy")
def _group_norm_forward(x, weight, bias, N, C, S, G, eps, y, mean, rstd):
    CG = C // G
    M = CG * S  # values per group
    for row in prange(N * G):
        g = row % G
        base = row * M  # = (n * C + g * CG) * S
        total = 0.0
        for i in range(M):
            total += x[base + i]
        group_mean = total / M
        squares = 0.0
        for i in range(M):
            deviation = x[base + i] - group_mean
            squares += deviation * deviation
        mean[row] = group_mean
        rstd[row] = 1.0 / math.sqrt(squares / M + eps)
        m = mean[row]
        inv = rstd[row]
        # Element i = cc * S + s of the group has channel c = g * CG + cc (the CUDA
        # kernel decodes cc = i / S); looping over cc and s keeps the inner loop free of
        # divisions, so it vectorizes.
        for cc in range(CG):
            c = g * CG + cc
            scale = inv * weight[c]
            shift = bias[c]
            start = base + cc * S
            for s in range(S):
                y[start + s] = (x[start + s] - m) * scale + shift


def group_norm_backward_reduce(dy, x, mean, rstd, G):
    """sum_dy[n, c] = sum_s dy;  sum_dy_xhat[n, c] = sum_s dy * xhat (see the reference).

    prange over the N * C rows (n, c) of S contiguous values each.
    """
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    N, C, S = x.shape
    sum_dy = np.empty((N, C), x.dtype)
    sum_dy_xhat = np.empty((N, C), x.dtype)
    _group_norm_backward_reduce(dy.reshape(-1), x.reshape(-1), _flat(mean, x.dtype),
                                _flat(rstd, x.dtype), N, C, S, G,
                                sum_dy.reshape(-1), sum_dy_xhat.reshape(-1))
    return sum_dy, sum_dy_xhat


@njit(parallel=True, cache=True, fastmath=_REDUCE, error_model="numpy")
def _group_norm_backward_reduce(dy, x, mean, rstd, N, C, S, G, sum_dy, sum_dy_xhat):
    CG = C // G
    for row in prange(N * C):
        c = row % C
        n = row // C
        group = n * G + c // CG
        m = float(mean[group])
        inv = float(rstd[group])
        base = row * S
        total_dy = 0.0
        total_dy_xhat = 0.0
        for s in range(S):
            total_dy += dy[base + s]
            total_dy_xhat += float(dy[base + s]) * ((x[base + s] - m) * inv)
        sum_dy[row] = total_dy
        sum_dy_xhat[row] = total_dy_xhat


def group_norm_backward_input(dy, x, mean, rstd, weight, sum_dy, sum_dy_xhat, G):
    """dx = rstd * (weight[c] dy - a[n, g] - xhat * b[n, g]) (see the reference).

    The wrapper folds everything per (n, c) into three coefficients (float64, cast to
    x's dtype): dx = A * dy - B * (x - mean[n, g]) - K with A = rstd weight[c],
    B = rstd^2 b, K = rstd a. prange over the N * C rows (n, c).
    """
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    N, C, S = x.shape
    mean_nc, A, B, K = _input_gradient_coefficients(mean, rstd, weight, sum_dy, sum_dy_xhat, G, S)
    dx = np.empty_like(x)
    _group_norm_backward_input(dy.reshape(-1), x.reshape(-1), _flat(mean_nc, x.dtype),
                               _flat(A, x.dtype), _flat(B, x.dtype), _flat(K, x.dtype),
                               N * C, S, dx.reshape(-1))
    return dx


@njit(parallel=True, cache=True, error_model="numpy")
def _group_norm_backward_input(dy, x, mean, A, B, K, rows, S, dx):
    """dx[row, s] = A[row] * dy - B[row] * (x - mean[row]) - K[row] over the rows = N * C
    runs (n, c) of S values. prange over rows (the CUDA kernel decodes row = index / S)."""
    for row in prange(rows):
        m = mean[row]
        a = A[row]
        b = B[row]
        k = K[row]
        base = row * S
        for s in range(S):
            dx[base + s] = a * dy[base + s] - b * (x[base + s] - m) - k


def _ones_if_none(array, size, dtype):
    return np.ones(size, dtype) if array is None else np.ascontiguousarray(array, dtype=dtype)


def _zeros_if_none(array, size, dtype):
    return np.zeros(size, dtype) if array is None else np.ascontiguousarray(array, dtype=dtype)


def _flat(values, dtype):
    return np.ascontiguousarray(values, dtype=dtype).reshape(-1)
