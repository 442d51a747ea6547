"""im2col and col2im in Numba: the CPU implementation.

Same names, signatures, layouts and results as ``kernels/reference/conv.py``, whose
docstring has the notation and the formulas:

    col[c, kh, kw, n, oh, ow] = x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW]   (0 in the padding)
    x has shape (N, C, H, W), col has shape (C, KH, KW, N, OH, OW)

Each jitted loop decodes its indices as the CUDA kernel in ``kernels/cuda/conv.cu``
does, with the same variable names in the same order: the ``prange`` index is the CUDA
thread index with its fastest-moving digits turned into inner loops (a CUDA thread does
one element; a CPU core does a long contiguous run of them). Where the loops are nested
differently from the CUDA thread's own loops, the docstring says why.

The public functions allocate the output with NumPy (so tracemalloc sees it; the jitted
code allocates only two small index tables) and make the input C-contiguous (so one
compiled version per dtype serves every call). The loops run without Python's GIL
(``nogil=True``), so that the convolutions' batch chunks can run them side by side on
several threads, each with one Numba thread (ops/chunk_pool.py).
"""
import numpy as np
from numba import njit, prange

from ..reference.conv import _check_col_shape, _check_image, _output_size


def im2col(x, KH, KW, SH, SW, PH, PW, DH, DW):
    """col[c, kh, kw, n, oh, ow] = x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW] (0 in
    the padding); x (N, C, H, W) -> col (C, KH, KW, N, OH, OW)."""
    N, C, H, W = _check_image("im2col", x)
    OH, OW = _output_size(H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    col = np.empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    _im2col(np.ascontiguousarray(x), col, SH, SW, PH, PW, DH, DW)
    return col


def col2im(col, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """x[n, c, h, w] = sum of col[c, kh, kw, n, oh, ow] over the (kh, kw, oh, ow) with
    oh*SH - PH + kh*DH == h and ow*SW - PW + kw*DW == w; col -> x (N, C, H, W)."""
    OH, OW = _output_size(H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    x = np.empty((N, C, H, W), dtype=col.dtype)
    _col2im(np.ascontiguousarray(col), x, SH, SW, PH, PW, DH, DW)
    return x


@njit(parallel=True, nogil=True, cache=True)
def _im2col(x, col, SH, SW, PH, PW, DH, DW):
    """Fill col (C, KH, KW, N, OH, OW) from x (N, C, H, W).

    ``prange`` runs over the rows (c, kh, kw) of the column matrix: each iteration
    writes one contiguous run of N*OH*OW values that no other iteration touches, so the
    cores never share a cache line, and there are C*KH*KW >= 9 rows for a 3x3 kernel,
    enough to keep every core busy even for a single input channel. Inside, the loops
    over (n, oh, ow) are the three fastest digits of the CUDA thread index.
    """
    N, C, H, W = x.shape
    _, KH, KW, _, OH, OW = col.shape
    zero = col.dtype.type(0)
    for row in prange(C * KH * KW):
        kw = row % KW
        kh = (row // KW) % KH
        c = row // (KW * KH)
        for n in range(N):
            for oh in range(OH):
                ih = oh * SH - PH + kh * DH
                for ow in range(OW):
                    iw = ow * SW - PW + kw * DW
                    if 0 <= ih < H and 0 <= iw < W:
                        col[c, kh, kw, n, oh, ow] = x[n, c, ih, iw]
                    else:
                        col[c, kh, kw, n, oh, ow] = zero


@njit(parallel=True, nogil=True, cache=True)
def _col2im(col, x, SH, SW, PH, PW, DH, DW):
    """Fill x (N, C, H, W) from col (C, KH, KW, N, OH, OW) by a gather.

    ``prange`` runs over the planes (n, c) of x, decoded as the CUDA thread decodes the
    plane of its pixel. Each iteration owns the H*W pixels of its plane, so no two
    iterations write the same pixel (no races, no atomics) and the result does not
    depend on the number of threads.

    The CUDA thread of pixel (h, w) loops over the taps (kh, kw); here the plane's
    pixel loops (h, w) are moved inside the tap loops, so that the innermost loop walks
    along one row of col instead of jumping between KH*KW rows. Every pixel still adds
    its entries in the same order (kh, then kw, starting from 0), so the sums are the
    same as the CUDA kernel's and the reference's.

    Which output row feeds pixel row h through tap kh depends only on (h, kh): it is
    looked up in a table made once per call with ``_source_index`` (the function the
    CUDA thread evaluates per tap) instead of being divided out for every pixel.
    """
    C, KH, KW, N, OH, OW = col.shape
    _, _, H, W = x.shape
    oh_of = _source_table(H, KH, SH, PH, DH, OH)
    ow_of = _source_table(W, KW, SW, PW, DW, OW)
    zero = col.dtype.type(0)
    for plane in prange(N * C):
        c = plane % C
        n = plane // C
        for h in range(H):
            for w in range(W):
                x[n, c, h, w] = zero
        for kh in range(KH):
            for kw in range(KW):
                for h in range(H):
                    oh = oh_of[h, kh]
                    if oh < 0:
                        continue
                    for w in range(W):
                        ow = ow_of[w, kw]
                        if ow < 0:
                            continue
                        x[n, c, h, w] += col[c, kh, kw, n, oh, ow]


@njit(cache=True)
def _source_index(i, k, S, P, D, O):
    """The output position o whose tap k reads pixel i along one axis, or -1 if none:
    o*S - P + k*D == i, so o = (i + P - k*D) / S when that is a whole number in [0, O)."""
    o_stride = i + P - k * D
    if o_stride < 0 or o_stride % S != 0:
        return -1
    o = o_stride // S
    if o >= O:
        return -1
    return o


@njit(cache=True)
def _source_table(size, K, S, P, D, O):
    """table[i, k] = _source_index(i, k, ...) for every pixel i < size and tap k < K."""
    table = np.empty((size, K), dtype=np.int64)
    for i in range(size):
        for k in range(K):
            table[i, k] = _source_index(i, k, S, P, D, O)
    return table
