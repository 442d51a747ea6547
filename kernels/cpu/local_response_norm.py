"""Local response normalization with Numba: the CPU implementation of the
``local_response_norm`` family.

Same names, signatures, layouts and formulas as ``kernels/reference/local_response_norm.py`` (read
that file first). Each public function is a thin Python wrapper that makes the arrays
contiguous, allocates the outputs, turns ``weight=None``/``bias=None`` into ones/zeros
where there are any, and calls one ``@njit`` loop nest whose index decoding mirrors the
CUDA kernel in ``kernels/cuda/local_response_norm.cu``: the ``prange`` iteration is the CUDA block
(or thread), the inner loops are what the threads of that block share. Every kernel has
exactly one ``prange``, over independent units that each write their own outputs, so
threads never write the same location and no atomics are needed.

The window sums run in float64, like the CUDA kernels.
"""
import numpy as np
from numba import njit, prange


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


def _flat(values, dtype):
    return np.ascontiguousarray(values, dtype=dtype).reshape(-1)
