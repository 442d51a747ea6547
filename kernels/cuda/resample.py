"""Launch wrappers of kernels/cuda/resample.cu: the CUDA implementation of "resample".

Same names and signatures as kernels/reference/resample.py (read its docstring for the
source-index rules); the comment blocks in resample.cu give the thread mapping.
Scalars are passed with the kernel's C types: ``int`` <- np.int32, ``long long`` <-
np.int64, the nearest scale as np.float32 (PyTorch computes it in float), the
bilinear scale in the array's dtype (``scalar_t``).

Backward kernels are gathers (one thread per input pixel), so they write every
element of grad_x and need no zero-initialized output and no atomics.
"""
import numpy as np

from minitorch_cv.devices import namespace
from .runtime import CudaSource, int32s

_SOURCE = CudaSource("resample.cu")


# --------------------------------------------------------------------- nearest
def upsample_nearest2d_forward(x, OH, OW, scale_h, scale_w):
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    total = out.size
    _SOURCE.launch_per_element("upsample_nearest2d_forward", total, (
        x, out, np.int64(total), *int32s(H, W, OH, OW), np.float32(scale_h), np.float32(scale_w),
    ))
    return out


def upsample_nearest2d_backward(grad_out, H, W, scale_h, scale_w):
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("upsample_nearest2d_backward", total, (
        grad_out, grad_x, np.int64(total), *int32s(H, W, OH, OW),
        np.float32(scale_h), np.float32(scale_w),
    ))
    return grad_x


# -------------------------------------------------------------------- bilinear
def upsample_bilinear2d_forward(x, OH, OW, align_corners, scale_h, scale_w):
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    total = out.size
    scalar = x.dtype.type
    _SOURCE.launch_per_element("upsample_bilinear2d_forward", total, (
        x, out, np.int64(total), *int32s(H, W, OH, OW, bool(align_corners)),
        scalar(scale_h), scalar(scale_w),
    ))
    return out


def upsample_bilinear2d_backward(grad_out, H, W, align_corners, scale_h, scale_w):
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    scalar = grad_out.dtype.type
    _SOURCE.launch_per_element("upsample_bilinear2d_backward", total, (
        grad_out, grad_x, np.int64(total), *int32s(H, W, OH, OW, bool(align_corners)),
        scalar(scale_h), scalar(scale_w),
    ))
    return grad_x


# --------------------------------------------------------------------- bicubic
def upsample_bicubic2d_forward(x, OH, OW, align_corners, scale_h, scale_w):
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    total = out.size
    scalar = x.dtype.type
    _SOURCE.launch_per_element("upsample_bicubic2d_forward", total, (
        x, out, np.int64(total), *int32s(H, W, OH, OW, bool(align_corners)),
        scalar(scale_h), scalar(scale_w),
    ))
    return out


def upsample_bicubic2d_backward(grad_out, H, W, align_corners, scale_h, scale_w):
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    scalar = grad_out.dtype.type
    _SOURCE.launch_per_element("upsample_bicubic2d_backward", total, (
        grad_out, grad_x, np.int64(total), *int32s(H, W, OH, OW, bool(align_corners)),
        scalar(scale_h), scalar(scale_w),
    ))
    return grad_x
