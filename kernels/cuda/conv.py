"""Launch wrappers for the CUDA im2col and col2im kernels of ``conv.cu``.

Same names, signatures, layouts and results as ``kernels/reference/conv.py`` (notation
and formulas there). Each wrapper allocates its output contiguous, launches one thread
per output element through the project's launcher, and passes every scalar as the NumPy
type of its C parameter (``long long`` <- np.int64, ``int`` <- np.int32). On CuPy arrays
the kernels run on the GPU; on NumPy arrays, in the launcher's CPU emulation.
"""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.conv import _check_col_shape, _output_size
from .runtime import CudaSource

_SOURCE = CudaSource("conv.cu")


def _geometry_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """The int parameters shared by both kernels, in their order in conv.cu."""
    return tuple(np.int32(v) for v in (N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW))


def im2col(x, KH, KW, SH, SW, PH, PW, DH, DW):
    """col[c, kh, kw, n, oh, ow] = x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW] (0 in
    the padding); x (N, C, H, W) -> col (C, KH, KW, N, OH, OW). One thread per element
    of col."""
    N, C, H, W = x.shape
    OH, OW = _output_size(H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    col = namespace(x).empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    total = col.size
    args = _geometry_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
    _SOURCE.launch_per_element("im2col", total, (x, col, np.int64(total)) + args)
    return col


def col2im(col, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """x[n, c, h, w] = sum of col[c, kh, kw, n, oh, ow] over the (kh, kw, oh, ow) with
    oh*SH - PH + kh*DH == h and ow*SW - PW + kw*DW == w; col -> x (N, C, H, W). One
    thread per pixel of x (a gather: no atomics, deterministic)."""
    OH, OW = _output_size(H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    x = namespace(col).empty((N, C, H, W), dtype=col.dtype)
    total = x.size
    args = _geometry_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
    _SOURCE.launch_per_element("col2im", total, (col, x, np.int64(total)) + args)
    return x
