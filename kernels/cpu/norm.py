"""Normalization kernels with Numba: the CPU implementation of the ``norm`` family.

Same names, signatures, layouts and formulas as ``kernels/reference/norm.py`` (read
that file first). Each public function is a thin Python wrapper that makes the arrays
contiguous, allocates the outputs, turns ``weight=None``/``bias=None`` into ones/zeros,
computes any tiny per-channel coefficient arrays, and calls one ``@njit`` loop nest.

Precision: the elementwise arithmetic of the normalize passes (forward, and the
batch/group norm input gradient) is in the input dtype: float32 stays float32, with
per-row or per-channel coefficients cast to it before the loop. Every REDUCTION
converts its operands to float64 and accumulates in a float64 scalar, so a channel of
a million float32 values loses no digits to the running total, and the products summed
(dy * xhat) are not rounded to float32 first. The layer-norm input gradient, a
per-row reduction followed by one pass over the same row, runs in float64 throughout.
Statistics are two-pass: the mean first, then the mean of squared deviations from it
(no E[x^2] - E[x]^2 cancellation); the second pass re-reads data that is usually
still in cache.

Parallel loops: every kernel has exactly one ``prange``, over independent units that
each write their own outputs (a row, an (n, group), a channel, or a block of
columns), so threads never write the same location and no atomics are needed. The
index decoding inside mirrors the CUDA kernels in ``kernels/cuda/norm.cu``: the Numba
``prange`` iteration is the CUDA block (or thread), the inner loops are what the
threads of that block share.

Reductions use ``fastmath={"reassoc"}`` only, which lets LLVM vectorize the float64
sums by reordering them; NaN and infinity semantics are untouched.
"""
import math

import numpy as np
from numba import njit, prange

_REDUCE = {"reassoc"}  # reordering sums is all we allow: it vectorizes the float64 accumulators
_COLUMN_BLOCK = 64  # columns per iteration of layer_norm_backward_affine (cache lines)


def _ones_if_none(array, size, dtype):
    return np.ones(size, dtype) if array is None else np.ascontiguousarray(array, dtype=dtype)


def _zeros_if_none(array, size, dtype):
    return np.zeros(size, dtype) if array is None else np.ascontiguousarray(array, dtype=dtype)


# ----------------------------------------------------------------------- layer norm


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


# ----------------------------------------------------------------------- group norm


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
        n = row // C
        c = row % C
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
    CG = C // G
    w = np.ones(C) if weight is None else weight.astype(np.float64)
    a = (w * sum_dy).reshape(N, G, CG).sum(axis=2) / (CG * S)
    b = (w * sum_dy_xhat).reshape(N, G, CG).sum(axis=2) / (CG * S)
    r = rstd.astype(np.float64)
    A = np.repeat(r, CG, axis=1) * w
    B = np.repeat(r * r * b, CG, axis=1)
    K = np.repeat(r * a, CG, axis=1)
    mean_nc = np.repeat(mean, CG, axis=1)
    dx = np.empty_like(x)
    _rowwise_backward_input(dy.reshape(-1), x.reshape(-1), _flat(mean_nc, x.dtype),
                            _flat(A, x.dtype), _flat(B, x.dtype), _flat(K, x.dtype),
                            N * C, S, N * C, dx.reshape(-1))
    return dx


def _flat(values, dtype):
    return np.ascontiguousarray(values, dtype=dtype).reshape(-1)


@njit(parallel=True, cache=True, error_model="numpy")
def _rowwise_backward_input(dy, x, mean, A, B, K, rows, S, P, dx):
    """dx[row, s] = A[p] * dy - B[p] * (x - mean[p]) - K[p] with p = row % P, over the
    rows = N * C runs (n, c) of S values: P = C for per-channel coefficients (batch
    norm), P = N * C for per-(n, c) ones (group norm). prange over rows."""
    for row in prange(rows):
        p = row % P
        m = mean[p]
        a = A[p]
        b = B[p]
        k = K[p]
        base = row * S
        for s in range(S):
            dx[base + s] = a * dy[base + s] - b * (x[base + s] - m) - k


# ----------------------------------------------------------------------- batch norm


def batch_norm_backward_reduce(dy, x, mean, invstd):
    """sum_dy[c] = sum dy;  sum_dy_xhat[c] = sum dy * (x - mean[c]) * invstd[c].

    prange over channels c: a channel's values are N runs of S contiguous values, at
    (n * C + c) * S; one iteration owns one channel (the CUDA block of channel c).
    """
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    N, C, S = x.shape
    sum_dy = np.empty(C, x.dtype)
    sum_dy_xhat = np.empty(C, x.dtype)
    _batch_norm_backward_reduce(dy.reshape(-1), x.reshape(-1), _flat(mean, x.dtype),
                                _flat(invstd, x.dtype), N, C, S, sum_dy, sum_dy_xhat)
    return sum_dy, sum_dy_xhat


@njit(parallel=True, cache=True, fastmath=_REDUCE, error_model="numpy")
def _batch_norm_backward_reduce(dy, x, mean, invstd, N, C, S, sum_dy, sum_dy_xhat):
    for c in prange(C):
        m = float(mean[c])
        total_dy = 0.0
        total_dy_centered = 0.0  # sum dy * (x - mean); times invstd once at the end
        for n in range(N):
            base = (n * C + c) * S
            for s in range(S):
                total_dy += dy[base + s]
                total_dy_centered += float(dy[base + s]) * (x[base + s] - m)
        sum_dy[c] = total_dy
        sum_dy_xhat[c] = total_dy_centered * invstd[c]


def batch_norm_backward_input(dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat):
    """dx = weight[c] invstd[c] (dy - sum_dy[c] / M - xhat sum_dy_xhat[c] / M), M = N S.

    The wrapper folds it per channel into dx = A dy - B (x - mean) - K with
    A = weight invstd, B = A invstd sum_dy_xhat / M, K = A sum_dy / M (float64, cast
    to x's dtype). prange over the N * C rows (n, c) of S contiguous values.
    """
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    N, C, S = x.shape
    M = N * S
    w = np.ones(C) if weight is None else weight.astype(np.float64)
    inv = invstd.astype(np.float64)
    A = w * inv
    B = A * inv * sum_dy_xhat / M
    K = A * sum_dy / M
    dx = np.empty_like(x)
    _rowwise_backward_input(dy.reshape(-1), x.reshape(-1), _flat(mean, x.dtype),
                            _flat(A, x.dtype), _flat(B, x.dtype), _flat(K, x.dtype),
                            N * C, S, C, dx.reshape(-1))
    return dx


# ------------------------------------------------------------- local response norm


def lrn_forward(x, size, alpha, beta, k):
    """scale = k + alpha / size * sum_{j in W(c)} x[n, j, s]^2;  y = x * scale^-beta.

    prange over the flat output index = (n * C + c) * S + s, decoded exactly like the
    CUDA kernel's thread index (one iteration per output element; the window loop over
    channels is inside).
    """
    x = np.ascontiguousarray(x)
    N, C, S = x.shape
    y = np.empty_like(x)
    scale = np.empty_like(x)
    _lrn_forward(x.reshape(-1), N, C, S, int(size), float(alpha), float(beta), float(k),
                 y.reshape(-1), scale.reshape(-1))
    return y, scale


@njit(parallel=True, cache=True, error_model="numpy")
def _lrn_forward(x, N, C, S, size, alpha, beta, k, y, scale):
    for index in prange(N * C * S):
        s = index % S
        c = (index // S) % C
        n = index // (S * C)
        first = max(c - size // 2, 0)
        last = min(c + (size - 1) // 2, C - 1)
        total = 0.0
        for j in range(first, last + 1):
            value = float(x[(n * C + j) * S + s])  # squares in float64, like the CUDA kernel
            total += value * value
        denominator = k + alpha / size * total
        scale[index] = denominator
        y[index] = x[index] * denominator ** (-beta)


def lrn_backward(dy, x, y, scale, size, alpha, beta):
    """dx[j] = dy[j] scale[j]^-beta - 2 alpha beta / size x[j] sum_{c: j in W(c)} dy[c] y[c] / scale[c].

    prange over the flat index of dx, decoded like ``lrn_forward``; the mirrored
    window is c in [j - (size - 1) // 2, j + size // 2].
    """
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    N, C, S = x.shape
    dx = np.empty_like(x)
    _lrn_backward(dy.reshape(-1), x.reshape(-1), _flat(y, x.dtype), _flat(scale, x.dtype),
                  N, C, S, int(size),
                  float(alpha), float(beta), dx.reshape(-1))
    return dx


@njit(parallel=True, cache=True, error_model="numpy")
def _lrn_backward(dy, x, y, scale, N, C, S, size, alpha, beta, dx):
    for index in prange(N * C * S):
        s = index % S
        j = (index // S) % C
        n = index // (S * C)
        first = max(j - (size - 1) // 2, 0)
        last = min(j + size // 2, C - 1)
        total = 0.0
        for c in range(first, last + 1):
            other = (n * C + c) * S + s
            total += float(dy[other]) * y[other] / scale[other]
        coefficient = 2.0 * alpha * beta / size
        dx[index] = dy[index] * scale[index] ** (-beta) - coefficient * x[index] * total
