"""Local response normalization: launch wrappers for ``kernels/cuda/local_response_norm.cu``.

Same names, signatures and formulas as ``kernels/reference/local_response_norm.py``. The same
functions serve CuPy arrays (the GPU) and NumPy arrays (the CPU emulation of CUDA):
every launch goes through ``launcher.CudaSource``, which makes inputs contiguous and
checks that each scalar has the exact NumPy type of its C parameter.

One thread per element in blocks of BLOCK threads.
"""
import numpy as np

from minitorch_cv.devices import namespace

from .runtime import CudaSource

_SOURCE = CudaSource("local_response_norm.cu")


def lrn_forward(x, size, alpha, beta, k):
    """One thread per element of x (N, C, S); see lrn_forward in local_response_norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    y = xp.empty((N, C, S), x.dtype)
    scale = xp.empty((N, C, S), x.dtype)
    _SOURCE.launch_per_element(
        "lrn_forward", y.size,
        (x, y, scale, np.int64(N), np.int32(C), np.int64(S), np.int32(size),
         x.dtype.type(alpha), x.dtype.type(beta), x.dtype.type(k)),
    )
    return y, scale


def lrn_backward(dy, x, y, scale, size, alpha, beta):
    """One thread per element of dx; see lrn_backward in local_response_norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    dx = xp.empty((N, C, S), x.dtype)
    _SOURCE.launch_per_element(
        "lrn_backward", dx.size,
        (_same_dtype(dy, x), x, _same_dtype(y, x), _same_dtype(scale, x), dx,
         np.int64(N), np.int32(C), np.int64(S), np.int32(size),
         x.dtype.type(alpha), x.dtype.type(beta)),
    )
    return dx


def _same_dtype(array, like):
    return namespace(like).asarray(array, dtype=like.dtype)
