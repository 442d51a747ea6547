"""Convolution as one matrix product: im2col and col2im, the readable specification.

Notation (the same in every convolution file)
---------------------------------------------
    N         batch size
    C         channels of the array being unfolded
    H, W      its height and width
    KH, KW    kernel height and width
    SH, SW    stride: how far the kernel moves between two outputs
    PH, PW    zero padding, added on both sides (top and bottom, left and right)
    DH, DW    dilation: the distance between two kernel taps (1 = adjacent)
    OH, OW    output height and width:

        OH = (H + 2*PH - DH*(KH - 1) - 1) // SH + 1
        OW = (W + 2*PW - DW*(KW - 1) - 1) // SW + 1

Output position (oh, ow) and kernel tap (kh, kw) look at the input pixel

        ih = oh*SH - PH + kh*DH          iw = ow*SW - PW + kw*DW

which is a padding zero when it falls outside [0, H) x [0, W).

im2col: unfold the input into columns
-------------------------------------
Copy what every kernel tap sees into its own slot:

        col[c, kh, kw, n, oh, ow] = x[n, c, ih, iw]    (0 in the padding)

x has shape (N, C, H, W) and col has shape (C, KH, KW, N, OH, OW), C-contiguous. Read as
a matrix, ``col.reshape(C*KH*KW, N*OH*OW)`` (a free reshape), row (c, kh, kw) holds tap
(kh, kw) of channel c for every output position of the whole batch, so a convolution with
weight w of shape (K, C, KH, KW) is ONE matrix product:

        y[k, j] = sum over i of w[k, i] * col[i, j]     row i = (c, kh, kw), column j = (n, oh, ow)
        (K, N*OH*OW) = (K, C*KH*KW) @ (C*KH*KW, N*OH*OW)

Why this layout: the batch is folded into one large GEMM (BLAS is fastest on large
matrices), the weight gradient is one GEMM as well (grad_y @ col^T sums over the batch
inside BLAS), and the rows of a group are one contiguous block: with G groups the op
reshapes col to (G, C/G*KH*KW, N*OH*OW) and multiplies group by group. The kernels know
nothing of groups, weights or GEMMs; the op (minitorch_cv/ops/conv.py) does that.

col2im: fold the columns back (the adjoint of im2col)
-----------------------------------------------------
Every pixel collects the copies that im2col made of it:

        x[n, c, h, w] = sum of col[c, kh, kw, n, oh, ow]
                        over all (kh, kw, oh, ow) with  oh*SH - PH + kh*DH == h
                                                   and  ow*SW - PW + kw*DW == w

so <im2col(x), col> == <x, col2im(col)> for all x and col: col2im is the transpose of
im2col. It computes the input gradient of a convolution and the forward of a transposed
convolution. Copies that landed in the padding are dropped.

The CUDA and Numba kernels compute col2im as a gather: each pixel (n, c, h, w) is
written by exactly one CUDA thread (one per pixel) or Numba iteration (one per plane
(n, c)), which adds its entries in the order kh, then kw. That is deterministic and
needs no atomics. The reference below adds whole taps in the same order (kh, then kw;
a pixel gets at most one entry per tap), so all three sum each pixel in the same order.
"""
import numpy as np

from . import _arguments as args


def _output_size(H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """(OH, OW): how many kernel positions fit along each axis (see the notation).

    Also the kernels' guard: a geometry that has no output, that would make a kernel
    divide by zero, or whose positions (the padded input, the reach of the last window)
    do not fit the CUDA kernels' 32-bit ints is refused here (the ops give friendlier
    messages before this).
    """
    name = "conv kernels"
    H, W, PH, PW = args.integers(name, H=H, W=W, PH=PH, PW=PW)
    KH, KW, SH, SW, DH, DW = args.integers(name, minimum=1, KH=KH, KW=KW, SH=SH, SW=SW, DH=DH, DW=DW)
    OH = (H + 2 * PH - DH * (KH - 1) - 1) // SH + 1
    OW = (W + 2 * PW - DW * (KW - 1) - 1) // SW + 1
    if OH < 1 or OW < 1:
        raise ValueError(f"conv kernels: the output size (OH, OW) = ({OH}, {OW}) is empty")
    args.extent(name, "H + 2 * PH", H + 2 * PH)
    args.extent(name, "W + 2 * PW", W + 2 * PW)
    args.extent(name, "OH * SH + KH * DH", OH * SH + KH * DH)
    args.extent(name, "OW * SW + KW * DW", OW * SW + KW * DW)
    return OH, OW


def _check_image(name, x):
    """x: (N, C, H, W) float, N and C within a 32-bit int; returns the shape."""
    shape = args.float_array(name, "x", x, ndim=4)
    args.integers(name, N=shape[0], C=shape[1])
    return shape


def _tap_window(kh, kw, OH, OW, SH, SW, DH, DW):
    """The slices of the PADDED input that tap (kh, kw) sees at all output positions:
    rows kh*DH + oh*SH for oh < OH and columns kw*DW + ow*SW for ow < OW."""
    top, left = kh * DH, kw * DW
    rows = slice(top, top + SH * (OH - 1) + 1, SH)
    cols = slice(left, left + SW * (OW - 1) + 1, SW)
    return rows, cols


def im2col(x, KH, KW, SH, SW, PH, PW, DH, DW):
    """Unfold x (N, C, H, W) into col (C, KH, KW, N, OH, OW):

        col[c, kh, kw, n, oh, ow] = x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW]

    (0 where the pixel is padding). One iteration per tap (kh, kw) copies a strided
    window of the zero-padded input for all n, c, oh, ow at once.
    """
    N, C, H, W = _check_image("im2col", x)
    OH, OW = _output_size(H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    x_padded = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    col = np.empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            rows, cols = _tap_window(kh, kw, OH, OW, SH, SW, DH, DW)
            window = x_padded[:, :, rows, cols]  # (N, C, OH, OW)
            col[:, kh, kw] = window.transpose(1, 0, 2, 3)
    return col


def col2im(col, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """Fold col (C, KH, KW, N, OH, OW) back into x (N, C, H, W), the adjoint of im2col:

        x[n, c, h, w] = sum of col[c, kh, kw, n, oh, ow] over all (kh, kw, oh, ow)
                        with oh*SH - PH + kh*DH == h and ow*SW - PW + kw*DW == w

    One iteration per tap (kh, kw) adds its entries back onto the strided window of the
    zero-padded image that im2col read them from; the padding is then cut off.
    """
    OH, OW = _output_size(H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    x_padded = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=col.dtype)
    for kh in range(KH):
        for kw in range(KW):
            rows, cols = _tap_window(kh, kw, OH, OW, SH, SW, DH, DW)
            x_padded[:, :, rows, cols] += col[:, kh, kw].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(x_padded[:, :, PH : PH + H, PW : PW + W])


def _check_col_shape(col, expected):
    """col2im reads col at every index of ``expected``: refuse anything else."""
    args.float_array("col2im", "col", col)
    args.integers("col2im", N=expected[3], C=expected[0])
    if tuple(col.shape) != tuple(expected):
        raise ValueError(
            f"col2im: col must have shape (C, KH, KW, N, OH, OW) = {tuple(expected)} for "
            f"this geometry, got {tuple(col.shape)}"
        )
