"""Group normalization kernels: launch wrappers for ``kernels/cuda/group_norm.cu``.

Same names, signatures and formulas as ``kernels/reference/group_norm.py``. The same
functions serve CuPy arrays (the GPU) and NumPy arrays (the CPU emulation of CUDA):
every launch goes through ``launcher.CudaSource``, which makes inputs contiguous and
checks that each scalar has the exact NumPy type of its C parameter.

Reductions run one block of BLOCK threads per reduced set (the comment above each
kernel says how the threads split the work); elementwise kernels run one thread per
element in blocks of BLOCK threads.
The per-(n, c) coefficients of the input gradient are computed here with the array
module of the inputs, in float64, and cast to the input dtype.
"""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.group_norm import _input_gradient_coefficients
from .runtime import BLOCK, CudaSource

_SOURCE = CudaSource("group_norm.cu")


def group_norm_forward(x, weight, bias, G, eps):
    """One block per group (n, g) of x (N, C, S); see group_norm_forward in group_norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    y = xp.empty((N, C, S), x.dtype)
    mean = xp.empty((N, G), x.dtype)
    rstd = xp.empty((N, G), x.dtype)
    if N * G == 0:
        return y, mean, rstd
    _SOURCE.launch(
        "group_norm_forward",
        grid=(N * G,),
        block=(BLOCK,),
        args=(x, _ones_if_none(weight, C, x), _zeros_if_none(bias, C, x), y, mean, rstd,
              np.int64(N), np.int32(C), np.int64(S), np.int32(G), x.dtype.type(eps)),
    )
    return y, mean, rstd


def group_norm_backward_reduce(dy, x, mean, rstd, G):
    """One block per (n, c); see group_norm_backward_reduce in group_norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    sum_dy = xp.empty((N, C), x.dtype)
    sum_dy_xhat = xp.empty((N, C), x.dtype)
    if N * C == 0:
        return sum_dy, sum_dy_xhat
    _SOURCE.launch(
        "group_norm_backward_reduce",
        grid=(N * C,),
        block=(BLOCK,),
        args=(_same_dtype(dy, x), x, _same_dtype(mean, x), _same_dtype(rstd, x), sum_dy, sum_dy_xhat,
              np.int64(N), np.int32(C), np.int64(S), np.int32(G)),
    )
    return sum_dy, sum_dy_xhat


def group_norm_backward_input(dy, x, mean, rstd, weight, sum_dy, sum_dy_xhat, G):
    """dx = A dy - B (x - mean[n, g]) - K with per-(n, c) coefficients A = rstd weight[c],
    B = rstd^2 b[n, g], K = rstd a[n, g] (a, b: the group means of g and g * xhat, see
    the reference); one thread per element (group_norm_backward_input in group_norm.cu)."""
    xp = namespace(x)
    N, C, S = x.shape
    mean_nc, A, B, K = _input_gradient_coefficients(mean, rstd, weight, sum_dy, sum_dy_xhat, G, S)
    dx = xp.empty((N, C, S), x.dtype)
    total = dx.size
    coefficients = [_same_dtype(v, x).reshape(-1) for v in (mean_nc, A, B, K)]
    _SOURCE.launch_per_element(
        "group_norm_backward_input", total,
        (_same_dtype(dy, x), x, *coefficients, dx, np.int64(total), np.int64(S)),
    )
    return dx


def _ones_if_none(array, size, like):
    xp = namespace(like)
    return xp.ones(size, like.dtype) if array is None else xp.asarray(array, dtype=like.dtype)


def _zeros_if_none(array, size, like):
    xp = namespace(like)
    return xp.zeros(size, like.dtype) if array is None else xp.asarray(array, dtype=like.dtype)


def _same_dtype(array, like):
    return namespace(like).asarray(array, dtype=like.dtype)
