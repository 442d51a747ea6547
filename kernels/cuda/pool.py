"""Launch wrappers of kernels/cuda/pool.cu: the CUDA implementation of "pool".

Same names and signatures as kernels/reference/pool.py (read its docstring for the
formulas); the comment blocks in pool.cu give the thread mapping. Every wrapper
allocates its outputs with the array module of its input (NumPy: the launcher runs
the kernel through its CPU emulation; CuPy: on the GPU) and passes scalars with the
C types of the kernel's parameters: ``int`` <- np.int32, ``long long`` <- np.int64,
``scalar_t`` <- the array's dtype.

Backward kernels are gathers (one thread per input pixel), so they write every
element of grad_x and need no zero-initialized output and no atomics.
"""
import numpy as np

from minitorch_cv.devices import namespace
from .runtime import CudaSource, int32s

_SOURCE = CudaSource("pool.cu")


# ------------------------------------------------------------------ max pooling
def max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
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
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    total = out.size
    _SOURCE.launch_per_element("avg_pool2d_forward", total, (
        x, out, np.int64(total), *int32s(H, W, OH, OW, KH, KW, SH, SW, PH, PW),
        *int32s(bool(count_include_pad), divisor_override),
    ))
    return out


def avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("avg_pool2d_backward", total, (
        grad_out, grad_x, np.int64(total), *int32s(H, W, OH, OW, KH, KW, SH, SW, PH, PW),
        *int32s(bool(count_include_pad), divisor_override),
    ))
    return grad_x


# ------------------------------------------------------------- adaptive pooling
def adaptive_avg_pool2d_forward(x, OH, OW):
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    total = out.size
    _SOURCE.launch_per_element("adaptive_avg_pool2d_forward", total, (x, out, np.int64(total), *int32s(H, W, OH, OW)))
    return out


def adaptive_avg_pool2d_backward(grad_out, H, W):
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("adaptive_avg_pool2d_backward", total, (
        grad_out, grad_x, np.int64(total), *int32s(H, W, OH, OW),
    ))
    return grad_x


def adaptive_max_pool2d_forward(x, OH, OW):
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
    xp = namespace(x)
    N, C, IH, IW = x.shape
    out = xp.zeros((N, C, OH, OW), dtype=x.dtype)  # the kernel writes only the switches
    total = x.size
    _SOURCE.launch_per_element("max_unpool2d_forward", total, (
        x, indices, out, np.int64(total), *int32s(IH, IW, OH, OW),
    ))
    return out


def max_unpool2d_backward(grad_out, indices):
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    IH, IW = indices.shape[2:]
    grad_x = xp.empty((N, C, IH, IW), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("max_unpool2d_backward", total, (
        grad_out, indices, grad_x, np.int64(total), *int32s(IH, IW, OH, OW),
    ))
    return grad_x
