"""Deformable convolution (v1 and v2): the sampling kernels, the readable specification.

Dai et al. 2017 ("Deformable Convolutional Networks") let every kernel tap of every output
position read the input at a learned fractional offset from the regular grid; Zhu et al.
2019 ("Deformable ConvNets v2") also scale each sample by a learned modulation mask. The
semantics are torchvision.ops.deform_conv2d's.

Notation (kernels/reference/conv.py's, plus the offset groups)
---------------------------------------------------------------
    x       (N, C, H, W)              the input
    offset  (N, 2*OG*KH*KW, OH, OW)   channel 2*t holds dh and 2*t + 1 holds dw of sample
                                      row t = (g*KH + kh)*KW + kw: offset group g, tap
                                      (kh, kw) in row-major order
    mask    (N, OG*KH*KW, OH, OW)     channel t holds m of sample row t (None: m = 1, v1)
    OG      offset groups: channel c uses the offsets of group g = c // (C/OG)
    OH, OW  the output size of the regular convolution with the same geometry

Output position (oh, ow) and tap (kh, kw) of channel c (group g) sample x[n, c] at

    ph = oh*SH - PH + kh*DH + offset[n, 2*t, oh, ow]
    pw = ow*SW - PW + kw*DW + offset[n, 2*t + 1, oh, ow]          t = (g*KH + kh)*KW + kw

(computed in the input's dtype) by bilinear interpolation from the four pixels around
the point. With h0 = floor(ph), w0 = floor(pw), lh = ph - h0, lw = pw - w0, hh = 1 - lh,
hw = 1 - lw and v_ab = x[n, c, h0 + a, w0 + b] (0 for a corner outside the image):

    sample = hh*hw*v00 + hh*lw*v01 + lh*hw*v10 + lh*lw*v11

Each corner outside the image contributes 0 on its own, so a point outside
(-1, H) x (-1, W) samples 0: all its corners are outside or have weight 0. A point
outside [-1, H] x [-1, W] (or a NaN) is not even split into corners: its sample and its
derivatives are 0, and floor() never sees a huge value.

deform_im2col: the columns of the deformable convolution
---------------------------------------------------------
        col[c, kh, kw, n, oh, ow] = m * sample

the layout of conv.py's im2col, so the convolution is the same GEMM, group by group:
y = w @ col. With zero offsets and no mask, col is exactly im2col's (the samples fall on
pixels, lh = lw = 0, and only v00 has a non-zero weight).

The gradients, given the gradient of the columns (gcol = w^T @ grad_y)
----------------------------------------------------------------------
deform_col2im, the input gradient, the adjoint of deform_im2col in x (offsets and mask
held fixed). Each sample spreads back onto its four pixels (a scatter):

        grad_x[n, c, h0 + a, w0 + b] += weight_ab * (m * gcol[c, kh, kw, n, oh, ow])

for the corners inside the image, weight_00 = hh*hw, weight_01 = hh*lw, weight_10 = lh*hw,
weight_11 = lh*lw. Unlike conv.py's col2im, where a pixel can list the entries that
touched it, any sample may land on any pixel, so the kernels cannot gather: each
implementation says how it keeps the scatter free of races.

deform_col2offset, the offset and mask gradients. The derivatives of the bilinear weights
(d hh/d ph = -1, d lh/d ph = 1, and likewise along w) give

        d sample/d ph = hw*(v10 - v00) + lw*(v11 - v01)
        d sample/d pw = hh*(v01 - v00) + lh*(v11 - v10)

and the offsets of a sample row are shared by the C/OG channels of its group:

        grad_offset[n, 2*t,     oh, ow] = m * sum over c in g of gcol[c, kh, kw, n, oh, ow] * d sample_c/d ph
        grad_offset[n, 2*t + 1, oh, ow] = m * sum over c in g of gcol[...] * d sample_c/d pw
        grad_mask[n, t, oh, ow]         =     sum over c in g of gcol[...] * sample_c

The sample is piecewise bilinear in (ph, pw): at a whole-number position the derivative
is the one of the cell whose top-left corner is the point (floor() picks it), as in
torchvision; there the derivative is one-sided, so finite-difference checks use offsets
off the integer grid.

Summation order: the Numba and CUDA kernels add the channels of a group in increasing c
(NumPy's sum below may add them pairwise). The input gradient sums up to 4*KH*KW*OH*OW
contributions per pixel, in an order that differs between the implementations (and
between runs of the CUDA kernel, which adds atomically): compare them with the dtype's
tolerance.
"""
import numpy as np

from .conv import _output_size


def _deform_geometry(x_shape, dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW):
    """(OH, OW, OG) of a deformable convolution, after checking that offset and mask
    have the shapes that the kernels read and the dtype of x (or col) (the ops give
    friendlier messages first)."""
    N, C, H, W = x_shape
    for name, array in (("offset", offset), ("mask", mask)):
        if array is not None and array.dtype != dtype:
            raise TypeError(f"deform_conv kernels: {name} has dtype {array.dtype}, expected {dtype}")
    OH, OW = _output_size(H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    taps = KH * KW
    OG = offset.shape[1] // (2 * taps) if offset.ndim == 4 else 0
    if OG < 1 or C % OG or tuple(offset.shape) != (N, 2 * OG * taps, OH, OW):
        raise ValueError(
            f"deform_conv kernels: offset must have shape (N, 2*OG*KH*KW, OH, OW) with C = {C} "
            f"divisible by OG, here ({N}, 2*OG*{taps}, {OH}, {OW}); got {tuple(offset.shape)}"
        )
    if mask is not None and tuple(mask.shape) != (N, OG * taps, OH, OW):
        raise ValueError(
            f"deform_conv kernels: mask must have shape (N, OG*KH*KW, OH, OW) = "
            f"{(N, OG * taps, OH, OW)}, got {tuple(mask.shape)}"
        )
    return OH, OW, OG


def _check_col_shape(col, expected):
    """The gradient kernels read col at every index of ``expected``: refuse anything else."""
    if tuple(col.shape) != tuple(expected):
        raise ValueError(
            f"deform_conv kernels: col must have shape (C, KH, KW, N, OH, OW) = "
            f"{tuple(expected)} for this geometry, got {tuple(col.shape)}"
        )


def deform_im2col(x, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW):
    """col[c, kh, kw, n, oh, ow] = m * (x[n, c] sampled bilinearly at (ph, pw)), see the
    module docstring; x (N, C, H, W) -> col (C, KH, KW, N, OH, OW). mask may be None.

    One iteration per tap (kh, kw) samples every (n, channel, oh, ow) at once.
    """
    N, C, H, W = x.shape
    OH, OW, OG = _deform_geometry(x.shape, x.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW)
    planes = _grouped(x, OG)  # (N, OG, H, W, C/OG)
    col = np.empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            ph, pw = _sampling_points(offset, kh, kw, KH, KW, SH, SW, PH, PW, DH, DW, x.dtype)
            h0, w0, lh, lw = _cell(ph, pw, H, W)
            v00, v01, v10, v11 = _corners(planes, h0, w0)  # each (N, OG, OH, OW, C/OG)
            hh, hw = 1 - lh, 1 - lw
            sample = (
                _per_channel(hh * hw) * v00
                + _per_channel(hh * lw) * v01
                + _per_channel(lh * hw) * v10
                + _per_channel(lh * lw) * v11
            )
            if mask is not None:
                sample = _per_channel(_mask_of(mask, kh, kw, KH, KW, OG)) * sample
            col[:, kh, kw] = _ungrouped_rows(sample)
    return col


def deform_col2im(col, offset, mask, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """grad_x (N, C, H, W): every column entry, times its mask, spread back onto the four
    pixels its sample was interpolated from, with the same bilinear weights.

    The scatter is np.add.at, which adds repeated indices one after the other (a plain
    ``grad[index] += values`` would keep only one of them): one tap, one corner at a time.
    """
    OH, OW, OG = _deform_geometry((N, C, H, W), col.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW)
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    grad_planes = np.zeros((N, OG, H, W, C // OG), dtype=col.dtype)
    n = np.arange(N).reshape(N, 1, 1, 1)
    g = np.arange(OG).reshape(1, OG, 1, 1)
    for kh in range(KH):
        for kw in range(KW):
            ph, pw = _sampling_points(offset, kh, kw, KH, KW, SH, SW, PH, PW, DH, DW, col.dtype)
            h0, w0, lh, lw = _cell(ph, pw, H, W)
            hh, hw = 1 - lh, 1 - lw
            spread = _grouped_rows(col[:, kh, kw], OG)  # (N, OG, OH, OW, C/OG)
            if mask is not None:
                spread = _per_channel(_mask_of(mask, kh, kw, KH, KW, OG)) * spread
            for a, b, weight in ((0, 0, hh * hw), (0, 1, hh * lw), (1, 0, lh * hw), (1, 1, lh * lw)):
                h, w = h0 + a, w0 + b
                inside = (0 <= h) & (h < H) & (0 <= w) & (w < W)
                index = tuple(np.broadcast_to(i, h.shape)[inside] for i in (n, g, h, w))
                np.add.at(grad_planes, index, (_per_channel(weight) * spread)[inside])
    return np.ascontiguousarray(grad_planes.transpose(0, 1, 4, 2, 3).reshape(N, C, H, W))


def deform_col2offset(col, x, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW):
    """(grad_offset, grad_mask): the derivatives of <deform_im2col(x, offset, mask), col>
    with respect to the offsets (N, 2*OG*KH*KW, OH, OW) and the mask (N, OG*KH*KW, OH, OW),
    see the module docstring; grad_mask is None when mask is None.

    One iteration per tap (kh, kw) differentiates every (n, channel, oh, ow) at once and
    sums over the C/OG channels of each offset group.
    """
    N, C, H, W = x.shape
    OH, OW, OG = _deform_geometry(x.shape, x.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW)
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    planes = _grouped(x, OG)
    grad_offset = np.empty((N, OG, KH, KW, 2, OH, OW), dtype=x.dtype)
    grad_mask = None if mask is None else np.empty((N, OG, KH, KW, OH, OW), dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            ph, pw = _sampling_points(offset, kh, kw, KH, KW, SH, SW, PH, PW, DH, DW, x.dtype)
            h0, w0, lh, lw = _cell(ph, pw, H, W)
            v00, v01, v10, v11 = _corners(planes, h0, w0)
            hh, hw = 1 - lh, 1 - lw
            gcol = _grouped_rows(col[:, kh, kw], OG)  # (N, OG, OH, OW, C/OG)
            d_ph = _per_channel(hw) * (v10 - v00) + _per_channel(lw) * (v11 - v01)
            d_pw = _per_channel(hh) * (v01 - v00) + _per_channel(lh) * (v11 - v10)
            m = 1 if mask is None else _mask_of(mask, kh, kw, KH, KW, OG)
            grad_offset[:, :, kh, kw, 0] = m * (gcol * d_ph).sum(axis=-1)
            grad_offset[:, :, kh, kw, 1] = m * (gcol * d_pw).sum(axis=-1)
            if mask is not None:
                sample = (
                    _per_channel(hh * hw) * v00
                    + _per_channel(hh * lw) * v01
                    + _per_channel(lh * hw) * v10
                    + _per_channel(lh * lw) * v11
                )
                grad_mask[:, :, kh, kw] = (gcol * sample).sum(axis=-1)
    grad_offset = grad_offset.reshape(N, 2 * OG * KH * KW, OH, OW)
    if grad_mask is not None:
        grad_mask = grad_mask.reshape(N, OG * KH * KW, OH, OW)
    return grad_offset, grad_mask


# ---------------------------------------------------------------- building blocks
def _sampling_points(offset, kh, kw, KH, KW, SH, SW, PH, PW, DH, DW, dtype):
    """(ph, pw), each (N, OG, OH, OW) in ``dtype``: where tap (kh, kw) of every output
    position samples, for every offset group."""
    N, _, OH, OW = offset.shape
    per_tap = offset.reshape(N, -1, KH, KW, 2, OH, OW)  # (N, OG, KH, KW, (dh, dw), OH, OW)
    grid_h = (np.arange(OH) * SH - PH + kh * DH).astype(dtype).reshape(OH, 1)
    grid_w = (np.arange(OW) * SW - PW + kw * DW).astype(dtype).reshape(1, OW)
    return grid_h + per_tap[:, :, kh, kw, 0], grid_w + per_tap[:, :, kh, kw, 1]


def _cell(ph, pw, H, W):
    """(h0, w0, lh, lw): the top-left pixel of the bilinear cell of each point and the
    fractions of the way to the next row and column. Points outside [-1, H] x [-1, W]
    (and NaNs) are moved to (-2, -2), whose four corners are all outside the image."""
    near = (ph >= -1) & (ph <= H) & (pw >= -1) & (pw <= W)
    ph = np.where(near, ph, ph.dtype.type(-2))
    pw = np.where(near, pw, pw.dtype.type(-2))
    h_low, w_low = np.floor(ph), np.floor(pw)
    return h_low.astype(np.int64), w_low.astype(np.int64), ph - h_low, pw - w_low


def _corners(planes, h0, w0):
    """v00, v01, v10, v11: the pixels (h0 + a, w0 + b) of every channel of the group,
    each (N, OG, OH, OW, C/OG); 0 for a corner outside the image."""
    N, OG, H, W, _ = planes.shape
    n = np.arange(N).reshape(N, 1, 1, 1)
    g = np.arange(OG).reshape(1, OG, 1, 1)
    values = []
    for a, b in ((0, 0), (0, 1), (1, 0), (1, 1)):
        h, w = h0 + a, w0 + b
        inside = (0 <= h) & (h < H) & (0 <= w) & (w < W)
        pixel = planes[n, g, np.clip(h, 0, H - 1), np.clip(w, 0, W - 1)]
        values.append(np.where(_per_channel(inside), pixel, planes.dtype.type(0)))
    return values


def _grouped(x, OG):
    """x (N, C, H, W) as (N, OG, H, W, C/OG): the channels of an offset group last, so
    one fancy index picks a pixel of all of them."""
    N, C, H, W = x.shape
    return x.reshape(N, OG, C // OG, H, W).transpose(0, 1, 3, 4, 2)


def _grouped_rows(rows, OG):
    """(C, N, OH, OW) column rows of one tap -> (N, OG, OH, OW, C/OG)."""
    C, N, OH, OW = rows.shape
    return rows.reshape(OG, C // OG, N, OH, OW).transpose(2, 0, 3, 4, 1)


def _ungrouped_rows(values):
    """(N, OG, OH, OW, C/OG) -> (C, N, OH, OW), the inverse of _grouped_rows."""
    N, OG, OH, OW, Cg = values.shape
    return values.transpose(1, 4, 0, 2, 3).reshape(OG * Cg, N, OH, OW)


def _mask_of(mask, kh, kw, KH, KW, OG):
    """The mask of tap (kh, kw), (N, OG, OH, OW)."""
    N, _, OH, OW = mask.shape
    return mask.reshape(N, OG, KH, KW, OH, OW)[:, :, kh, kw]


def _per_channel(a):
    """(N, OG, OH, OW) -> (N, OG, OH, OW, 1): the same value for every channel of a group."""
    return a[..., np.newaxis]
