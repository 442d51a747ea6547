"""Layer normalization kernels: launch wrappers for ``kernels/cuda/layer_norm.cu``.

Same names, signatures and formulas as ``kernels/reference/layer_norm.py``. The same
functions serve CuPy arrays (the GPU) and NumPy arrays (the CPU emulation of CUDA):
every launch goes through ``launcher.CudaSource``, which makes inputs contiguous and
checks that each scalar has the exact NumPy type of its C parameter.

Reductions run one block of BLOCK threads per reduced set (the comment above each
kernel says how the threads split the work); elementwise kernels run one thread per
element in blocks of BLOCK threads.
"""
import numpy as np

from minitorch_cv.devices import namespace

from .runtime import BLOCK, CudaSource

_SOURCE = CudaSource("layer_norm.cu")


def layer_norm_forward(x, weight, bias, eps):
    """One block per row r of x (R, D); see layer_norm_forward in layer_norm.cu."""
    xp = namespace(x)
    R, D = x.shape
    y = xp.empty((R, D), x.dtype)
    mean = xp.empty(R, x.dtype)
    rstd = xp.empty(R, x.dtype)
    if R == 0:
        return y, mean, rstd
    _SOURCE.launch(
        "layer_norm_forward",
        grid=(R,),
        block=(BLOCK,),
        args=(x, _ones_if_none(weight, D, x), _zeros_if_none(bias, D, x), y, mean, rstd,
              np.int64(R), np.int64(D), x.dtype.type(eps)),
    )
    return y, mean, rstd


def layer_norm_backward_input(dy, x, mean, rstd, weight):
    """One block per row; see layer_norm_backward_input in layer_norm.cu."""
    xp = namespace(x)
    R, D = x.shape
    dx = xp.empty((R, D), x.dtype)
    if R == 0:
        return dx
    _SOURCE.launch(
        "layer_norm_backward_input",
        grid=(R,),
        block=(BLOCK,),
        args=(_same_dtype(dy, x), x, _same_dtype(mean, x), _same_dtype(rstd, x),
              _ones_if_none(weight, D, x), dx, np.int64(R), np.int64(D)),
    )
    return dx


def layer_norm_backward_affine(dy, x, mean, rstd):
    """One thread per column j; see layer_norm_backward_affine in layer_norm.cu."""
    xp = namespace(x)
    R, D = x.shape
    dweight = xp.empty(D, x.dtype)
    dbias = xp.empty(D, x.dtype)
    _SOURCE.launch_per_element(
        "layer_norm_backward_affine", D,
        (_same_dtype(dy, x), x, _same_dtype(mean, x), _same_dtype(rstd, x), dweight, dbias,
         np.int64(R), np.int64(D)),
    )
    return dweight, dbias


def _ones_if_none(array, size, like):
    xp = namespace(like)
    return xp.ones(size, like.dtype) if array is None else xp.asarray(array, dtype=like.dtype)


def _zeros_if_none(array, size, like):
    xp = namespace(like)
    return xp.zeros(size, like.dtype) if array is None else xp.asarray(array, dtype=like.dtype)


def _same_dtype(array, like):
    return namespace(like).asarray(array, dtype=like.dtype)
