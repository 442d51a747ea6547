"""Deformable convolution (v1 and v2) in Numba: the CPU implementation of the sampling kernels.

Same names, signatures, layouts and results as ``kernels/reference/deform_conv.py``, whose
docstring has the notation and the formulas:

    tap (kh, kw) of output (oh, ow), channel c of offset group g, samples x[n, c] at
        ph = oh*SH - PH + kh*DH + offset[n, 2*t, oh, ow]
        pw = ow*SW - PW + kw*DW + offset[n, 2*t + 1, oh, ow]      t = (g*KH + kh)*KW + kw
    col[c, kh, kw, n, oh, ow] = m * (hh*hw*v00 + hh*lw*v01 + lh*hw*v10 + lh*lw*v11)

Each jitted loop decodes its indices as the CUDA kernel in ``kernels/cuda/deform_conv.cu``
does, with the same variable names in the same order, and the per-sample arithmetic is
the same, term for term, in the input's dtype (constants and grid positions are converted
to it first: Numba would otherwise compute a float32 kernel in float64). Where the loops
are parallel over something else than the CUDA threads (the input gradient), the
docstring says why.

Without a mask (v1) the jitted loops get ``has_mask = False`` and the offsets in the
mask's place (never read). The public functions allocate the outputs with NumPy and make
the inputs C-contiguous, as kernels/cpu/conv.py does.
"""
import numpy as np
from numba import njit, prange

from ..reference.deform_conv import _check_col_shape, _deform_geometry


def deform_im2col(x, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW):
    """col[c, kh, kw, n, oh, ow] = m * (x[n, c] sampled bilinearly at (ph, pw));
    x (N, C, H, W) -> col (C, KH, KW, N, OH, OW)."""
    N, C, H, W = x.shape
    OH, OW, OG = _deform_geometry(x.shape, x.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW)
    col = np.empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    mask, has_mask = _mask_args(offset, mask)
    _deform_im2col(*_contiguous(x, offset, mask), has_mask, col, SH, SW, PH, PW, DH, DW, OG)
    return col


def deform_col2im(col, offset, mask, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """grad_x (N, C, H, W): every column entry, times its mask, spread onto the four
    pixels of its sample's cell. Deterministic: each thread owns whole planes (n, c)."""
    OH, OW, OG = _deform_geometry(
        (N, C, H, W), col.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW
    )
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    grad_x = np.empty((N, C, H, W), dtype=col.dtype)
    mask, has_mask = _mask_args(offset, mask)
    _deform_col2im(*_contiguous(col, offset, mask), has_mask, grad_x, SH, SW, PH, PW, DH, DW, OG)
    return grad_x


def deform_col2offset(col, x, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW):
    """(grad_offset, grad_mask or None): the offset and mask gradients of the columns'
    gradient col, summed over the channels of each offset group."""
    N, C, H, W = x.shape
    OH, OW, OG = _deform_geometry(x.shape, x.dtype, offset, mask, KH, KW, SH, SW, PH, PW, DH, DW)
    _check_col_shape(col, (C, KH, KW, N, OH, OW))
    T = OG * KH * KW
    grad_offset = np.empty((N, 2 * T, OH, OW), dtype=x.dtype)
    # Without a mask no mask gradient is written: one element stands in for it.
    grad_mask = np.empty((N, T, OH, OW) if mask is not None else (1, 1, 1, 1), dtype=x.dtype)
    mask_arg, has_mask = _mask_args(offset, mask)
    _deform_col2offset(
        *_contiguous(col, x, offset, mask_arg), has_mask, grad_offset, grad_mask,
        SH, SW, PH, PW, DH, DW, OG,
    )
    return grad_offset, (grad_mask if mask is not None else None)


def _mask_args(offset, mask):
    """(mask or a placeholder, has_mask) for the jitted loops."""
    return (offset, False) if mask is None else (mask, True)


def _contiguous(*arrays):
    return tuple(np.ascontiguousarray(a) for a in arrays)


# ---------------------------------------------------------------- per-sample arithmetic
# The twins of the __device__ functions of deform_conv.cu.
@njit(cache=True)
def _near_image(ph, pw, H, W):
    """Whether (ph, pw) lies in [-1, H] x [-1, W] (False for a NaN), tested before floor()."""
    return ph >= -1 and ph <= H and pw >= -1 and pw <= W


@njit(cache=True)
def _bilinear_cell(ph, pw):
    """(h0, w0, lh, lw): the cell's top-left pixel and the fractions towards the next
    row and column; np.floor keeps the dtype of ph, so lh is computed in it."""
    h_low = np.floor(ph)
    w_low = np.floor(pw)
    return int(h_low), int(w_low), ph - h_low, pw - w_low


@njit(cache=True)
def _pixel_or_zero(x, n, c, h, w):
    _, _, H, W = x.shape
    if 0 <= h and h < H and 0 <= w and w < W:
        return x[n, c, h, w]
    return x.dtype.type(0)


@njit(cache=True)
def _cell_corners(x, n, c, h0, w0):
    """v00, v01, v10, v11: the four pixels of the cell, 0 for those outside the image."""
    return (
        _pixel_or_zero(x, n, c, h0, w0),
        _pixel_or_zero(x, n, c, h0, w0 + 1),
        _pixel_or_zero(x, n, c, h0 + 1, w0),
        _pixel_or_zero(x, n, c, h0 + 1, w0 + 1),
    )


@njit(cache=True)
def _sampling_point(offset, mask, has_mask, n, t, oh, ow, kh, kw, SH, SW, PH, PW, DH, DW):
    """(ph, pw, m) of sample row t of (n, oh, ow), in the offsets' dtype."""
    scalar = offset.dtype.type
    ph = scalar(oh * SH - PH + kh * DH) + offset[n, 2 * t, oh, ow]
    pw = scalar(ow * SW - PW + kw * DW) + offset[n, 2 * t + 1, oh, ow]
    m = mask[n, t, oh, ow] if has_mask else scalar(1)
    return ph, pw, m


# ---------------------------------------------------------------- the three kernels
@njit(parallel=True, nogil=True, cache=True)
def _deform_im2col(x, offset, mask, has_mask, col, SH, SW, PH, PW, DH, DW, OG):
    """Fill col (C, KH, KW, N, OH, OW) by sampling x (N, C, H, W).

    ``prange`` runs over the rows (c, kh, kw) of the column matrix, as conv's _im2col:
    each iteration writes its own contiguous run of N*OH*OW values, so no two cores
    share a cache line. Inside, (n, oh, ow) are the fastest digits of the CUDA thread
    index.
    """
    N, C, H, W = x.shape
    _, KH, KW, _, OH, OW = col.shape
    one = x.dtype.type(1)
    for row in prange(C * KH * KW):
        kw = row % KW
        kh = (row // KW) % KH
        c = row // (KW * KH)
        g = c // (C // OG)
        t = (g * KH + kh) * KW + kw
        for n in range(N):
            for oh in range(OH):
                for ow in range(OW):
                    ph, pw, m = _sampling_point(offset, mask, has_mask, n, t, oh, ow, kh, kw,
                                                SH, SW, PH, PW, DH, DW)
                    value = x.dtype.type(0)
                    if _near_image(ph, pw, H, W):
                        h0, w0, lh, lw = _bilinear_cell(ph, pw)
                        v00, v01, v10, v11 = _cell_corners(x, n, c, h0, w0)
                        hh = one - lh
                        hw = one - lw
                        value = hh * hw * v00 + hh * lw * v01 + lh * hw * v10 + lh * lw * v11
                    col[c, kh, kw, n, oh, ow] = m * value


@njit(parallel=True, nogil=True, cache=True)
def _deform_col2im(col, offset, mask, has_mask, grad_x, SH, SW, PH, PW, DH, DW, OG):
    """Fill grad_x (N, C, H, W) by spreading every column entry onto its cell's pixels.

    ``prange`` runs over the planes (n, c) of grad_x, decoded as conv's _col2im decodes
    them: an iteration adds only into its own plane, so no two threads ever write the
    same pixel (no races, no atomics), and each pixel receives its contributions in one
    fixed order (kh, kw, oh, ow, then the corners) whatever the number of threads: the
    result is deterministic. The CUDA kernel runs one thread per column entry and adds
    atomically instead; inside the loops, the arithmetic of an entry is the same.
    """
    C, KH, KW, N, OH, OW = col.shape
    _, _, H, W = grad_x.shape
    one = col.dtype.type(1)
    for plane in prange(N * C):
        c = plane % C
        n = plane // C
        g = c // (C // OG)
        for h in range(H):
            for w in range(W):
                grad_x[n, c, h, w] = 0
        for kh in range(KH):
            for kw in range(KW):
                t = (g * KH + kh) * KW + kw
                for oh in range(OH):
                    for ow in range(OW):
                        ph, pw, m = _sampling_point(offset, mask, has_mask, n, t, oh, ow, kh, kw,
                                                    SH, SW, PH, PW, DH, DW)
                        if not _near_image(ph, pw, H, W):
                            continue
                        h0, w0, lh, lw = _bilinear_cell(ph, pw)
                        hh = one - lh
                        hw = one - lw
                        spread = m * col[c, kh, kw, n, oh, ow]
                        _add_to_pixel(grad_x, n, c, h0, w0, hh * hw * spread)
                        _add_to_pixel(grad_x, n, c, h0, w0 + 1, hh * lw * spread)
                        _add_to_pixel(grad_x, n, c, h0 + 1, w0, lh * hw * spread)
                        _add_to_pixel(grad_x, n, c, h0 + 1, w0 + 1, lh * lw * spread)


@njit(cache=True)
def _add_to_pixel(grad_x, n, c, h, w, value):
    """grad_x[n, c, h, w] += value when the pixel is in the image (a plain +=: the caller
    owns the plane)."""
    _, _, H, W = grad_x.shape
    if 0 <= h and h < H and 0 <= w and w < W:
        grad_x[n, c, h, w] += value


@njit(parallel=True, nogil=True, cache=True)
def _deform_col2offset(col, x, offset, mask, has_mask, grad_offset, grad_mask,
                       SH, SW, PH, PW, DH, DW, OG):
    """Fill grad_offset (N, 2*T, OH, OW) and, with a mask, grad_mask (N, T, OH, OW).

    ``prange`` runs over sample = n*T + t, decoded as the CUDA thread decodes it; the
    loops over (oh, ow) are the fastest digits of its index. An iteration writes only the
    gradients of its own sampling points, summing over the channels of the group in
    increasing c: a gather, deterministic.
    """
    C, KH, KW, N, OH, OW = col.shape
    _, _, H, W = x.shape
    zero = x.dtype.type(0)
    one = x.dtype.type(1)
    T = OG * KH * KW
    Cg = C // OG
    for sample in prange(N * T):
        t = sample % T
        n = sample // T
        kw = t % KW
        kh = (t // KW) % KH
        g = t // (KW * KH)
        for oh in range(OH):
            for ow in range(OW):
                ph, pw, m = _sampling_point(offset, mask, has_mask, n, t, oh, ow, kh, kw,
                                            SH, SW, PH, PW, DH, DW)
                grad_ph = zero
                grad_pw = zero
                grad_m = zero
                if _near_image(ph, pw, H, W):
                    h0, w0, lh, lw = _bilinear_cell(ph, pw)
                    hh = one - lh
                    hw = one - lw
                    for c in range(g * Cg, (g + 1) * Cg):
                        gcol = col[c, kh, kw, n, oh, ow]
                        v00, v01, v10, v11 = _cell_corners(x, n, c, h0, w0)
                        grad_ph += gcol * (hw * (v10 - v00) + lw * (v11 - v01))
                        grad_pw += gcol * (hh * (v01 - v00) + lh * (v11 - v10))
                        grad_m += gcol * (hh * hw * v00 + hh * lw * v01 + lh * hw * v10 + lh * lw * v11)
                grad_offset[n, 2 * t, oh, ow] = m * grad_ph
                grad_offset[n, 2 * t + 1, oh, ow] = m * grad_pw
                if has_mask:
                    grad_mask[n, t, oh, ow] = grad_m
