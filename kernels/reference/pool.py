"""Pooling kernels in NumPy: the readable specification of the "pool" family.

Notation: N batch, C channels, H W input size, OH OW output size, KH KW kernel size,
SH SW stride, PH PW padding, DH DW dilation. Every kernel works on (N, C, H, W)
arrays; each of the N*C planes is pooled on its own. The callers (minitorch_cv.ops)
compute OH and OW (with PyTorch's ceil_mode rule) and validate every argument.

Window of output (oh, ow) of a strided pooling (max_pool2d, avg_pool2d):
    input rows    ih = oh*SH - PH + kh*DH,  kh = 0 .. KH-1
    input columns iw = ow*SW - PW + kw*DW,  kw = 0 .. KW-1
Taps outside [0, H) x [0, W) are padding: -inf for max pooling, 0 for average pooling.

Bins of an adaptive pooling (adaptive_avg_pool2d, adaptive_max_pool2d), PyTorch's rule:
    rows    floor(oh*H/OH) .. ceil((oh+1)*H/OH) - 1
    columns floor(ow*W/OW) .. ceil((ow+1)*W/OW) - 1

Max-pooling indices are PyTorch's: ``ih*W + iw``, a flat index into the H*W plane of
the same (n, c). Ties go to the FIRST maximum in scan order (kh, then kw), and a NaN
wins over any number (the last NaN in scan order, as in PyTorch's CPU kernel). A window
that covers no input element (only possible with dilation on a tiny image) gives -inf
and index -1, and passes no gradient back.

Exported kernels (the same names and signatures in kernels/cpu/pool.py and
kernels/cuda/pool.py):
    max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW) -> (out, argmax)
    max_pool2d_backward(grad_out, argmax, H, W, KH, KW, SH, SW, PH, PW, DH, DW) -> grad_x
    avg_pool2d_forward(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad,
                       divisor_override) -> out
    avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad,
                        divisor_override) -> grad_x
    adaptive_avg_pool2d_forward(x, OH, OW) -> out
    adaptive_avg_pool2d_backward(grad_out, H, W) -> grad_x
    adaptive_max_pool2d_forward(x, OH, OW) -> (out, argmax)
    adaptive_max_pool2d_backward(grad_out, argmax, H, W) -> grad_x
    max_unpool2d_forward(x, indices, OH, OW) -> out
    max_unpool2d_backward(grad_out, indices) -> grad_x
``divisor_override`` is an int; 0 means "no override".
"""
import numpy as np


# ------------------------------------------------------------------ max pooling
def max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """out[n, c, oh, ow] = max over the window's in-bounds taps of x[n, c, ih, iw];
    argmax[n, c, oh, ow] = ih*W + iw of the first maximum (kh-major scan).

    Vectorized over (n, c, oh, ow): the taps are visited one (kh, kw) at a time and
    each one is compared with the running maximum of every window at once.
    """
    N, C, H, W = x.shape
    out = np.full((N, C, OH, OW), -np.inf, dtype=x.dtype)
    argmax = np.full((N, C, OH, OW), -1, dtype=np.int64)
    oh = np.arange(OH)[:, None]  # (OH, 1) against (1, OW) below
    ow = np.arange(OW)[None, :]
    for kh in range(KH):
        ih = oh * SH - PH + kh * DH
        for kw in range(KW):
            iw = ow * SW - PW + kw * DW
            inside = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)  # (OH, OW)
            values = x[:, :, np.clip(ih, 0, H - 1), np.clip(iw, 0, W - 1)]
            # The first in-bounds tap is always taken (so a window of -inf values
            # still points at its first element); later taps only when strictly
            # greater, or NaN.
            take = inside & ((argmax < 0) | (values > out) | np.isnan(values))
            out = np.where(take, values, out)
            argmax = np.where(take, ih * W + iw, argmax)
    return out, argmax


def max_pool2d_backward(grad_out, argmax, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """grad_x[n, c, i] = sum of grad_out[n, c, oh, ow] over the windows whose argmax is
    the flat index i (overlapping windows can route several gradients to one input).
    The window geometry is not needed here; it is part of the signature because the
    CUDA kernel gathers over the windows that cover each input pixel."""
    return _scatter_add_by_index(grad_out, argmax, H, W)


def _scatter_add_by_index(grad_out, argmax, H, W):
    N, C = grad_out.shape[:2]
    planes = N * C
    grad_x = np.zeros((planes, H * W), dtype=grad_out.dtype)
    flat_index = argmax.reshape(planes, -1)
    flat_grad = grad_out.reshape(planes, -1)
    plane = np.broadcast_to(np.arange(planes)[:, None], flat_index.shape)
    valid = flat_index >= 0  # empty windows (index -1) pass nothing back
    np.add.at(grad_x, (plane[valid], flat_index[valid]), flat_grad[valid])
    return grad_x.reshape(N, C, H, W)


# -------------------------------------------------------------- average pooling
def _avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    """The divisor of window (oh, ow), PyTorch's rule (arrays or ints).

    The window is first clipped to the PADDED image [-PH, H+PH) x [-PW, W+PW): a
    window that overhangs it (ceil_mode) does not count its overhang. Then:
      divisor_override != 0:  divisor_override
      count_include_pad:      the clipped window's area (padding taps count)
      otherwise:              the number of taps inside the image itself
    """
    hstart = oh * SH - PH
    wstart = ow * SW - PW
    hend = np.minimum(hstart + KH, H + PH)
    wend = np.minimum(wstart + KW, W + PW)
    if divisor_override:
        return np.full(np.broadcast(hstart, wstart).shape, divisor_override)
    if count_include_pad:
        return (hend - hstart) * (wend - wstart)
    inside_h = np.minimum(hend, H) - np.maximum(hstart, 0)
    inside_w = np.minimum(wend, W) - np.maximum(wstart, 0)
    return inside_h * inside_w


def avg_pool2d_forward(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override):
    """out[n, c, oh, ow] = (sum of the window's in-bounds taps) / divisor(oh, ow)."""
    N, C, H, W = x.shape
    total = np.zeros((N, C, OH, OW), dtype=x.dtype)
    oh = np.arange(OH)[:, None]
    ow = np.arange(OW)[None, :]
    for kh in range(KH):
        ih = oh * SH - PH + kh
        for kw in range(KW):
            iw = ow * SW - PW + kw
            inside = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
            values = x[:, :, np.clip(ih, 0, H - 1), np.clip(iw, 0, W - 1)]
            total += np.where(inside, values, 0)
    divisor = _avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override)
    return (total / divisor).astype(x.dtype)


def avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    """grad_x[n, c, ih, iw] = sum over the windows (oh, ow) that cover (ih, iw) of
    grad_out[n, c, oh, ow] / divisor(oh, ow): the adjoint of the forward sum."""
    N, C, OH, OW = grad_out.shape
    oh = np.arange(OH)[:, None]
    ow = np.arange(OW)[None, :]
    divisor = _avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override)
    share = (grad_out / divisor).astype(grad_out.dtype)
    grad_x = np.zeros((N, C, H, W), dtype=grad_out.dtype)
    for kh in range(KH):
        ih = np.broadcast_to(oh * SH - PH + kh, (OH, OW))
        for kw in range(KW):
            iw = np.broadcast_to(ow * SW - PW + kw, (OH, OW))
            inside = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
            # Distinct windows of one tap hit distinct pixels, so plain += is exact.
            grad_x[:, :, ih[inside], iw[inside]] += share[:, :, inside]
    return grad_x


# ------------------------------------------------------------- adaptive pooling
def _adaptive_bin(o, size, out_size):
    """Rows (or columns) of adaptive bin ``o``: [floor(o*size/out_size),
    ceil((o+1)*size/out_size)), in integer arithmetic."""
    start = (o * size) // out_size
    end = -((-(o + 1) * size) // out_size)  # ceil division
    return start, end


def adaptive_avg_pool2d_forward(x, OH, OW):
    """out[n, c, oh, ow] = mean of x[n, c, bin_h(oh), bin_w(ow)]."""
    N, C, H, W = x.shape
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    for oh in range(OH):
        h0, h1 = _adaptive_bin(oh, H, OH)
        for ow in range(OW):
            w0, w1 = _adaptive_bin(ow, W, OW)
            out[:, :, oh, ow] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return out


def adaptive_avg_pool2d_backward(grad_out, H, W):
    """grad_x[n, c, ih, iw] = sum over the bins containing (ih, iw) of
    grad_out[n, c, oh, ow] / (bin area). Bins overlap when H % OH != 0."""
    N, C, OH, OW = grad_out.shape
    grad_x = np.zeros((N, C, H, W), dtype=grad_out.dtype)
    for oh in range(OH):
        h0, h1 = _adaptive_bin(oh, H, OH)
        for ow in range(OW):
            w0, w1 = _adaptive_bin(ow, W, OW)
            area = (h1 - h0) * (w1 - w0)
            grad_x[:, :, h0:h1, w0:w1] += (grad_out[:, :, oh, ow] / area)[:, :, None, None]
    return grad_x


def adaptive_max_pool2d_forward(x, OH, OW):
    """out = max of each bin, argmax = ih*W + iw of its first maximum (row-major scan,
    NaN wins: the same rule as max_pool2d_forward)."""
    N, C, H, W = x.shape
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    argmax = np.empty((N, C, OH, OW), dtype=np.int64)
    for oh in range(OH):
        h0, h1 = _adaptive_bin(oh, H, OH)
        for ow in range(OW):
            w0, w1 = _adaptive_bin(ow, W, OW)
            best = x[:, :, h0, w0].copy()  # a bin is never empty
            best_index = np.full((N, C), h0 * W + w0, dtype=np.int64)
            for ih in range(h0, h1):
                for iw in range(w0, w1):
                    values = x[:, :, ih, iw]
                    take = (values > best) | np.isnan(values)
                    best = np.where(take, values, best)
                    best_index = np.where(take, ih * W + iw, best_index)
            out[:, :, oh, ow] = best
            argmax[:, :, oh, ow] = best_index
    return out, argmax


def adaptive_max_pool2d_backward(grad_out, argmax, H, W):
    """grad_x[n, c, i] = sum of grad_out over the bins whose argmax is i."""
    return _scatter_add_by_index(grad_out, argmax, H, W)


# -------------------------------------------------------------------- unpooling
def max_unpool2d_forward(x, indices, OH, OW):
    """out[n, c] is an (OH, OW) plane of zeros with out[n, c].flat[indices[n, c, i, j]]
    = x[n, c, i, j]: every pooled value goes back to where its maximum came from
    (ZFNet's "switches"). When two entries share an index, the later one in
    row-major order wins (PyTorch's CPU behaviour; after an overlapping max_pool2d
    such entries hold the same value anyway). Indices must be in [0, OH*OW)."""
    N, C = x.shape[:2]
    planes = N * C
    out = np.zeros((planes, OH * OW), dtype=x.dtype)
    flat_index = indices.reshape(planes, -1)
    flat_x = x.reshape(planes, -1)
    for p in range(planes):
        # For each target index keep its LAST occurrence: np.unique on the reversed
        # row returns the position of each index's first occurrence there.
        targets, last = np.unique(flat_index[p, ::-1], return_index=True)
        out[p, targets] = flat_x[p, ::-1][last]
    return out.reshape(N, C, OH, OW)


def max_unpool2d_backward(grad_out, indices):
    """grad_x[n, c, i, j] = grad_out[n, c].flat[indices[n, c, i, j]] (a gather)."""
    N, C = grad_out.shape[:2]
    flat_grad = grad_out.reshape(N * C, -1)
    flat_index = indices.reshape(N * C, -1)
    grad_x = np.take_along_axis(flat_grad, flat_index, axis=1)
    return grad_x.reshape(indices.shape)
