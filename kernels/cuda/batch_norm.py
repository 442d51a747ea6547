"""Batch normalization kernels: launch wrappers for ``kernels/cuda/batch_norm.cu``.

Same names, signatures and formulas as ``kernels/reference/batch_norm.py``. The same
functions serve CuPy arrays (the GPU) and NumPy arrays (the CPU emulation of CUDA): every
launch goes through ``launcher.CudaSource``, which makes inputs contiguous and checks that
each scalar has the exact NumPy type of its C parameter.

Reductions run one block of BLOCK threads per channel; elementwise kernels one
thread per element. The per-channel coefficients of the input gradient are computed here
with the array module of the inputs, in float64, and cast to the input dtype.
"""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.batch_norm import _channel_geometry, _input_gradient_coefficients, _validate_channels
from .runtime import BLOCK, CudaSource

_SOURCE = CudaSource("batch_norm.cu")


def batch_norm_statistics(x):
    """One block per channel c; see batch_norm_statistics in batch_norm.cu."""
    _validate_channels(x)
    xp = namespace(x)
    N, C, S = _channel_geometry(x)
    mean = xp.empty(C, np.float64)
    var = xp.empty(C, np.float64)
    if C:
        _SOURCE.launch(
            "batch_norm_statistics",
            grid=(C,),
            block=(BLOCK,),
            args=(x, mean, var, np.int64(N), np.int32(C), np.int64(S)),
        )
    return mean, var


def batch_norm_scale_shift(x, scale, shift):
    """y[n, c, s] = x[n, c, s] * scale[c] + shift[c]. One thread per element of y."""
    _validate_channels(x, scale=scale, shift=shift)
    N, C, S = _channel_geometry(x)
    y = namespace(x).empty(x.shape, dtype=x.dtype)  # contiguous: the kernel writes it in place
    total = y.size
    _SOURCE.launch_per_element(
        "batch_norm_scale_shift", total,
        (x, scale, shift, y, np.int64(total), np.int32(C), np.int64(S)),
    )
    return y


def batch_norm_backward_reduce(dy, x, mean, invstd):
    """One block per channel c; see batch_norm_backward_reduce in batch_norm.cu."""
    xp = namespace(x)
    N, C, S = _channel_geometry(x)
    sum_dy = xp.empty(C, x.dtype)
    sum_dy_xhat = xp.empty(C, x.dtype)
    if C:
        _SOURCE.launch(
            "batch_norm_backward_reduce",
            grid=(C,),
            block=(BLOCK,),
            args=(_same_dtype(dy, x), x, _same_dtype(mean, x), _same_dtype(invstd, x), sum_dy, sum_dy_xhat,
                  np.int64(N), np.int32(C), np.int64(S)),
        )
    return sum_dy, sum_dy_xhat


def batch_norm_backward_input(dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat):
    """dx = A dy - B (x - mean[c]) - K with the per-channel coefficients of
    _input_gradient_coefficients (kernels/reference/batch_norm.py); one thread per element."""
    xp = namespace(x)
    N, C, S = _channel_geometry(x)
    A, B, K = _input_gradient_coefficients(invstd, weight, sum_dy, sum_dy_xhat, N * S)
    dx = xp.empty(x.shape, x.dtype)
    total = dx.size
    coefficients = [_same_dtype(v, x) for v in (mean, A, B, K)]
    _SOURCE.launch_per_element(
        "batch_norm_backward_input", total,
        (_same_dtype(dy, x), x, *coefficients, dx, np.int64(total), np.int32(C), np.int64(S)),
    )
    return dx


def _same_dtype(array, like):
    return namespace(like).asarray(array, dtype=like.dtype)
