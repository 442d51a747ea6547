"""Launch wrappers of kernels/cuda/pool.cu: the CUDA implementation of "pool".

Same names and signatures as kernels/reference/pool.py (read its docstring for the
formulas); the comment blocks in pool.cu give the thread mapping. Every wrapper
allocates its outputs with the array module of its input (NumPy: the launcher runs
the kernel through its CPU emulation; CuPy: on the GPU) and passes scalars with the
C types of the kernel's parameters: ``int`` <- np.int32, ``long long`` <- np.int64,
``scalar_t`` <- the array's dtype. Every wrapper first checks its arguments (the
``_check_*`` functions of kernels/reference/pool.py), so a kernel never meets a shape,
size or index that would take it outside an array or past a 32-bit int.

Backward kernels are gathers (one thread per input pixel), so they write every
element of grad_x and need no zero-initialized output and no atomics.
"""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.pool import (
    _check_adaptive,
    _check_avg_pool2d_backward,
    _check_avg_pool2d_forward,
    _check_max_pool2d_backward,
    _check_max_pool2d_forward,
    _check_unpool,
)
from .runtime import CudaSource, int32s

_SOURCE = CudaSource("pool.cu")


# ------------------------------------------------------------------ max pooling
def max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    _check_max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    argmax = xp.empty((N, C, OH, OW), dtype=np.int64)
    total = out.size
    _SOURCE.launch_per_element("max_pool2d_forward", total, (
        x, out, argmax, np.int64(total), *int32s(H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW),
        x.dtype.type(-np.inf),
    ))
    return out, argmax


def max_pool2d_backward(grad_out, argmax, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    _check_max_pool2d_backward(grad_out, argmax, H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("max_pool2d_backward", total, (
        grad_out, argmax, grad_x, np.int64(total),
        *int32s(H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW),
    ))
    return grad_x


# -------------------------------------------------------------- average pooling
def avg_pool2d_forward(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override):
    _check_avg_pool2d_forward(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override)
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    total = out.size
    _SOURCE.launch_per_element("avg_pool2d_forward", total, (
        x, out, np.int64(total), *int32s(H, W, OH, OW, KH, KW, SH, SW, PH, PW),
        np.int32(bool(count_include_pad)), np.int64(divisor_override),
    ))
    return out


def avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    _check_avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override)
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("avg_pool2d_backward", total, (
        grad_out, grad_x, np.int64(total), *int32s(H, W, OH, OW, KH, KW, SH, SW, PH, PW),
        np.int32(bool(count_include_pad)), np.int64(divisor_override),
    ))
    return grad_x


# ------------------------------------------------------------- adaptive pooling
def adaptive_avg_pool2d_forward(x, OH, OW):
    _check_adaptive("adaptive_avg_pool2d_forward", x, None, OH, OW)
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    total = out.size
    _SOURCE.launch_per_element("adaptive_avg_pool2d_forward", total, (x, out, np.int64(total), *int32s(H, W, OH, OW)))
    return out


def adaptive_avg_pool2d_backward(grad_out, H, W):
    _check_adaptive("adaptive_avg_pool2d_backward", grad_out, None, None, None, H, W)
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("adaptive_avg_pool2d_backward", total, (
        grad_out, grad_x, np.int64(total), *int32s(H, W, OH, OW),
    ))
    return grad_x


def adaptive_max_pool2d_forward(x, OH, OW):
    _check_adaptive("adaptive_max_pool2d_forward", x, None, OH, OW)
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    argmax = xp.empty((N, C, OH, OW), dtype=np.int64)
    total = out.size
    _SOURCE.launch_per_element("adaptive_max_pool2d_forward", total, (
        x, out, argmax, np.int64(total), *int32s(H, W, OH, OW),
    ))
    return out, argmax


def adaptive_max_pool2d_backward(grad_out, argmax, H, W):
    _check_adaptive("adaptive_max_pool2d_backward", grad_out, argmax, None, None, H, W)
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("adaptive_max_pool2d_backward", total, (
        grad_out, argmax, grad_x, np.int64(total), *int32s(H, W, OH, OW),
    ))
    return grad_x


# -------------------------------------------------------------------- unpooling
def max_unpool2d_forward(x, indices, OH, OW):
    _check_unpool("max_unpool2d_forward", x, indices, OH, OW)
    xp = namespace(x)
    N, C, IH, IW = x.shape
    out = xp.zeros((N, C, OH, OW), dtype=x.dtype)  # the kernel writes only the switches
    total = x.size
    _SOURCE.launch_per_element("max_unpool2d_forward", total, (
        x, indices, out, np.int64(total), *int32s(IH, IW, OH, OW),
    ))
    return out


def max_unpool2d_backward(grad_out, indices):
    _check_unpool("max_unpool2d_backward", grad_out, indices)
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    IH, IW = indices.shape[2:]
    grad_x = xp.empty((N, C, IH, IW), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("max_unpool2d_backward", total, (
        grad_out, indices, grad_x, np.int64(total), *int32s(IH, IW, OH, OW),
    ))
    return grad_x
