"""Launch wrappers for the CUDA deformable-convolution kernels of ``deform_conv.cu``.

Same names, signatures, layouts and results as ``kernels/reference/deform_conv.py``
(notation and formulas there). Each wrapper allocates its outputs contiguous, launches one
thread per output element through the project's launcher (deform_col2im: one per column
entry, adding atomically) and passes every scalar as the NumPy type of its C parameter.
On CuPy arrays the kernels run on the GPU; on NumPy arrays, in the launcher's CPU
emulation. Without a mask (v1) the kernels get ``has_mask = 0`` and the offsets in the
mask's place, which they never read.
"""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.deform_conv import _check_col_shape, _deform_geometry
from .runtime import CudaSource

_SOURCE = CudaSource("deform_conv.cu")


def _mask_args(offset, mask):
    """(mask or a placeholder, has_mask) for the kernels' ``mask`` and ``has_mask``."""
    return (offset, np.int32(0)) if mask is None else (mask, np.int32(1))


def _geometry_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, OG):
    """The int parameters shared by the three kernels, in their order in deform_conv.cu."""
    values = (N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, OG)
    return tuple(np.int32(v) for v in values)


def deform_im2col(x, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW):
    """col[c, kh, kw, n, oh, ow] = m * (x[n, c] sampled bilinearly at (ph, pw));
    x (N, C, H, W) -> col (C, KH, KW, N, OH, OW). One thread per element of col."""
    N, C, H, W = x.shape
    OH, OW, OG = _deform_geometry(x.shape, x.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW)
    col = namespace(x).empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    total = col.size
    mask, has_mask = _mask_args(offset, mask)
    args = _geometry_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, OG)
    _SOURCE.launch_per_element(
        "deform_im2col", total, (x, offset, mask, col, np.int64(total), has_mask) + args
    )
    return col


def deform_col2im(col, offset, mask, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """grad_x (N, C, H, W): every column entry, times its mask, spread onto the four
    pixels of its sample's cell. One thread per column entry, atomicAdd into grad_x
    (zeroed here): the float sums' order, so their last bits, vary from run to run."""
    OH, OW, OG = _deform_geometry(
        (N, C, H, W), col.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW
    )
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    grad_x = namespace(col).zeros((N, C, H, W), dtype=col.dtype)
    total = col.size
    mask, has_mask = _mask_args(offset, mask)
    args = _geometry_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, OG)
    _SOURCE.launch_per_element(
        "deform_col2im", total, (col, offset, mask, grad_x, np.int64(total), has_mask) + args
    )
    return grad_x


def deform_col2offset(col, x, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW):
    """(grad_offset, grad_mask or None): the offset and mask gradients of the columns'
    gradient col. One thread per sampling point (n, t, oh, ow), summing over the
    channels of its offset group: a gather, deterministic."""
    N, C, H, W = x.shape
    OH, OW, OG = _deform_geometry(x.shape, x.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW)
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    xp = namespace(x)
    T = OG * KH * KW
    grad_offset = xp.empty((N, 2 * T, OH, OW), dtype=x.dtype)
    # Without a mask the kernel writes no mask gradient: one element stands in for it.
    grad_mask = xp.empty((N, T, OH, OW) if mask is not None else (1,), dtype=x.dtype)
    total = N * T * OH * OW
    mask_arg, has_mask = _mask_args(offset, mask)
    args = _geometry_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, OG)
    _SOURCE.launch_per_element(
        "deform_col2offset", total,
        (col, x, offset, mask_arg, grad_offset, grad_mask, np.int64(total), has_mask) + args,
    )
    return grad_offset, (grad_mask if mask is not None else None)
