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

from ..reference.resample import _check_resample
from .runtime import CudaSource, int32s

_SOURCE = CudaSource("resample.cu")


# --------------------------------------------------------------------- nearest
def upsample_nearest2d_forward(x, OH, OW, scale_h, scale_w):
    _check_resample("upsample_nearest2d_forward", x, OH, OW, scale_h, scale_w)
    xp = namespace(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, OH, OW), dtype=x.dtype)
    total = out.size
    _SOURCE.launch_per_element("upsample_nearest2d_forward", total, (
        x, out, np.int64(total), *int32s(H, W, OH, OW), np.float32(scale_h), np.float32(scale_w),
    ))
    return out


def upsample_nearest2d_backward(grad_out, H, W, scale_h, scale_w):
    _check_resample("upsample_nearest2d_backward", grad_out, H, W, scale_h, scale_w, backward=True)
    xp = namespace(grad_out)
    N, C, OH, OW = grad_out.shape
    grad_x = xp.empty((N, C, H, W), dtype=grad_out.dtype)
    total = grad_x.size
    _SOURCE.launch_per_element("upsample_nearest2d_backward", total, (
        grad_out, grad_x, np.int64(total), *int32s(H, W, OH, OW),
        np.float32(scale_h), np.float32(scale_w),
    ))
    return grad_x


# ------------------------------------------------------ bilinear and bicubic
def _launch_interpolation(kernel, source, shape, H, W, OH, OW, align_corners, scale_h, scale_w):
    """Allocate ``shape`` and run ``kernel`` (one thread per element of the result): the
    bilinear and bicubic kernels of resample.cu share this parameter list."""
    result = namespace(source).empty(shape, dtype=source.dtype)
    scalar = source.dtype.type
    _SOURCE.launch_per_element(kernel, result.size, (
        source, result, np.int64(result.size), *int32s(H, W, OH, OW, bool(align_corners)),
        scalar(scale_h), scalar(scale_w),
    ))
    return result


def upsample_bilinear2d_forward(x, OH, OW, align_corners, scale_h, scale_w):
    _check_resample("upsample_bilinear2d_forward", x, OH, OW, scale_h, scale_w)
    N, C, H, W = x.shape
    return _launch_interpolation("upsample_bilinear2d_forward", x, (N, C, OH, OW),
                                 H, W, OH, OW, align_corners, scale_h, scale_w)


def upsample_bilinear2d_backward(grad_out, H, W, align_corners, scale_h, scale_w):
    _check_resample("upsample_bilinear2d_backward", grad_out, H, W, scale_h, scale_w, backward=True)
    N, C, OH, OW = grad_out.shape
    return _launch_interpolation("upsample_bilinear2d_backward", grad_out, (N, C, H, W),
                                 H, W, OH, OW, align_corners, scale_h, scale_w)


def upsample_bicubic2d_forward(x, OH, OW, align_corners, scale_h, scale_w):
    _check_resample("upsample_bicubic2d_forward", x, OH, OW, scale_h, scale_w)
    N, C, H, W = x.shape
    return _launch_interpolation("upsample_bicubic2d_forward", x, (N, C, OH, OW),
                                 H, W, OH, OW, align_corners, scale_h, scale_w)


def upsample_bicubic2d_backward(grad_out, H, W, align_corners, scale_h, scale_w):
    _check_resample("upsample_bicubic2d_backward", grad_out, H, W, scale_h, scale_w, backward=True)
    N, C, OH, OW = grad_out.shape
    return _launch_interpolation("upsample_bicubic2d_backward", grad_out, (N, C, H, W),
                                 H, W, OH, OW, align_corners, scale_h, scale_w)
