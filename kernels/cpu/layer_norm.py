"""Layer normalization kernels with Numba: the CPU implementation of the ``layer_norm`` family.

Same names, signatures, layouts and formulas as ``kernels/reference/layer_norm.py`` (read
that file first). Each public function is a thin Python wrapper that makes the arrays
contiguous, allocates the outputs, turns ``weight=None``/``bias=None`` into ones/zeros
where there are any, and calls one ``@njit`` loop nest whose index decoding mirrors the
CUDA kernel in ``kernels/cuda/layer_norm.cu``: the ``prange`` iteration is the CUDA block
(or thread), the inner loops are what the threads of that block share. Every kernel has
exactly one ``prange``, over independent units that each write their own outputs, so
threads never write the same location and no atomics are needed.

Precision: the elementwise arithmetic of the normalize passes is in the input dtype
(float32 stays float32, with per-row or per-group coefficients cast to it before the
loop). Every REDUCTION converts its operands to float64 and accumulates in a float64
scalar, so a row of a million float32 values loses no digits to the running total, and
the products summed (dy * xhat) are not rounded to float32 first. Statistics are
two-pass: the mean first, then the mean of squared deviations from it (no
E[x^2] - E[x]^2 cancellation). Reductions use ``fastmath={"reassoc"}`` only, which lets
LLVM vectorize the float64 sums by reordering them; NaN and infinity semantics are
untouched.
"""
import math

import numpy as np
from numba import njit, prange

_REDUCE = {"reassoc"}  # reordering sums is all we allow: it vectorizes the float64 accumulators
_COLUMN_BLOCK = 64  # columns per iteration of layer_norm_backward_affine (cache lines)


def layer_norm_forward(x, weight, bias, eps):
    """y[r, j] = (x[r, j] - mean[r]) * rstd[r] * weight[j] + bias[j] (see the reference).

    prange over rows r: one iteration owns one row (the CUDA block of that row).
    """
    x = np.ascontiguousarray(x)
    R, D = x.shape
    weight = _ones_if_none(weight, D, x.dtype)
    bias = _zeros_if_none(bias, D, x.dtype)
    y = np.empty_like(x)
    mean = np.empty(R, x.dtype)
    rstd = np.empty(R, x.dtype)
    _layer_norm_forward(x, weight, bias, float(eps), y, mean, rstd)
    return y, mean, rstd


@njit(parallel=True, cache=True, fastmath=_REDUCE, error_model="numpy")
def _layer_norm_forward(x, weight, bias, eps, y, mean, rstd):
    R, D = x.shape
    for r in prange(R):
        total = 0.0
        for j in range(D):
            total += x[r, j]
        row_mean = total / D
        squares = 0.0
        for j in range(D):
            deviation = x[r, j] - row_mean
            squares += deviation * deviation
        mean[r] = row_mean
        rstd[r] = 1.0 / math.sqrt(squares / D + eps)
        m = mean[r]  # read back: the elementwise pass runs in x's dtype
        inv = rstd[r]
        for j in range(D):
            y[r, j] = (x[r, j] - m) * inv * weight[j] + bias[j]


def layer_norm_backward_input(dy, x, mean, rstd, weight):
    """dx[r] = rstd[r] * (g - mean_j(g) - xhat * mean_j(g * xhat)), g = dy[r] * weight.

    prange over rows r: each iteration reduces its row (two float64 sums) and then
    writes the row of dx.
    """
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    R, D = x.shape
    weight = _ones_if_none(weight, D, x.dtype)
    dx = np.empty_like(x)
    _layer_norm_backward_input(dy, x, _flat(mean, x.dtype), _flat(rstd, x.dtype), weight, dx)
    return dx


@njit(parallel=True, cache=True, fastmath=_REDUCE, error_model="numpy")
def _layer_norm_backward_input(dy, x, mean, rstd, weight, dx):
    R, D = x.shape
    for r in prange(R):
        m = float(mean[r])  # the whole row runs in float64 (D values, read twice)
        inv = float(rstd[r])
        sum_g = 0.0
        sum_g_xhat = 0.0
        for j in range(D):
            g = float(dy[r, j]) * weight[j]
            sum_g += g
            sum_g_xhat += g * ((x[r, j] - m) * inv)
        mean_g = sum_g / D
        mean_g_xhat = sum_g_xhat / D
        for j in range(D):
            xhat = (x[r, j] - m) * inv
            dx[r, j] = inv * (float(dy[r, j]) * weight[j] - mean_g - xhat * mean_g_xhat)


def layer_norm_backward_affine(dy, x, mean, rstd):
    """dweight[j] = sum_r dy[r, j] * xhat[r, j];  dbias[j] = sum_r dy[r, j].

    prange over blocks of 64 columns: an iteration walks all rows and, in each row,
    its 64 consecutive columns, so it reads whole cache lines (the CUDA kernel has one
    thread per column j, and neighbouring threads read neighbouring columns).
    """
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    R, D = x.shape
    dweight = np.empty(D, x.dtype)
    dbias = np.empty(D, x.dtype)
    _layer_norm_backward_affine(dy, x, _flat(mean, x.dtype), _flat(rstd, x.dtype), dweight, dbias)
    return dweight, dbias


@njit(parallel=True, cache=True, fastmath=_REDUCE, error_model="numpy")
def _layer_norm_backward_affine(dy, x, mean, rstd, dweight, dbias):
    R, D = x.shape
    blocks = (D + _COLUMN_BLOCK - 1) // _COLUMN_BLOCK
    for block in prange(blocks):
        first = block * _COLUMN_BLOCK
        last = min(first + _COLUMN_BLOCK, D)
        sum_dy_xhat = np.zeros(_COLUMN_BLOCK)  # float64 accumulators, one per column
        sum_dy = np.zeros(_COLUMN_BLOCK)
        for r in range(R):
            m = float(mean[r])
            inv = float(rstd[r])
            for j in range(first, last):
                sum_dy_xhat[j - first] += float(dy[r, j]) * ((x[r, j] - m) * inv)
                sum_dy[j - first] += dy[r, j]
        for j in range(first, last):
            dweight[j] = sum_dy_xhat[j - first]
            dbias[j] = sum_dy[j - first]


def _ones_if_none(array, size, dtype):
    return np.ones(size, dtype) if array is None else np.ascontiguousarray(array, dtype=dtype)


def _zeros_if_none(array, size, dtype):
    return np.zeros(size, dtype) if array is None else np.ascontiguousarray(array, dtype=dtype)


def _flat(values, dtype):
    return np.ascontiguousarray(values, dtype=dtype).reshape(-1)
