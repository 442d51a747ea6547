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

Every implementation checks its arguments first (the ``_check_*`` functions at the end):
shapes, dtypes, a geometry whose positions fit the 32-bit ints of the CUDA kernels, and
the indices a kernel follows (argmax, unpooling indices) within their plane.
"""
import numpy as np

from . import _arguments as args


# ------------------------------------------------------------------ max pooling
def max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """out[n, c, oh, ow] = max over the window's in-bounds taps of x[n, c, ih, iw];
    argmax[n, c, oh, ow] = ih*W + iw of the first maximum (kh-major scan).

    Vectorized over (n, c, oh, ow): the taps are visited one (kh, kw) at a time and
    each one is compared with the running maximum of every window at once; only the
    taps that land inside the input for some window are visited (``_taps``), so a huge
    kernel over a small image costs no more than the image.
    """
    _check_max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
    N, C, H, W = x.shape
    out = np.full((N, C, OH, OW), -np.inf, dtype=x.dtype)
    argmax = np.full((N, C, OH, OW), -1, dtype=np.int64)
    oh = np.arange(OH)[:, None]  # (OH, 1) against (1, OW) below
    ow = np.arange(OW)[None, :]
    for kh in _taps(H, OH, KH, SH, PH, DH):
        ih = oh * SH - PH + kh * DH
        for kw in _taps(W, OW, KW, SW, PW, DW):
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
    _check_max_pool2d_backward(grad_out, argmax, H, W, KH, KW, SH, SW, PH, PW, DH, DW)
    return _scatter_add_by_index(grad_out, argmax, H, W)


def _taps(size, out_size, K, S, P, D):
    """The taps k of a window axis that land inside [0, size) for some output position
    o in [0, out_size): o*S - P + k*D in [0, size). Taps outside that range only ever
    see padding."""
    if out_size == 0 or size == 0:
        return range(0)
    first = max(0, -(-(P - (out_size - 1) * S) // D))  # ceil((P - (OH-1)S) / D)
    last = min(K - 1, (size - 1 + P) // D)
    return range(first, last + 1)


def _scatter_add_by_index(grad_out, argmax, H, W):
    N, C = grad_out.shape[:2]
    planes = N * C
    grad_x = np.zeros((planes, H * W), dtype=grad_out.dtype)
    flat_index = argmax.reshape(planes, argmax.shape[2] * argmax.shape[3])  # (-1 fails for 0 planes)
    flat_grad = grad_out.reshape(flat_index.shape)
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
    _check_avg_pool2d_forward(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override)
    N, C, H, W = x.shape
    total = np.zeros((N, C, OH, OW), dtype=x.dtype)
    oh = np.arange(OH)[:, None]
    ow = np.arange(OW)[None, :]
    for kh in _taps(H, OH, KH, SH, PH, 1):
        ih = oh * SH - PH + kh
        for kw in _taps(W, OW, KW, SW, PW, 1):
            iw = ow * SW - PW + kw
            inside = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
            values = x[:, :, np.clip(ih, 0, H - 1), np.clip(iw, 0, W - 1)]
            total += np.where(inside, values, 0)
    divisor = _avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override)
    return (total / divisor).astype(x.dtype)


def avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    """grad_x[n, c, ih, iw] = sum over the windows (oh, ow) that cover (ih, iw) of
    grad_out[n, c, oh, ow] / divisor(oh, ow): the adjoint of the forward sum."""
    _check_avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override)
    N, C, OH, OW = grad_out.shape
    oh = np.arange(OH)[:, None]
    ow = np.arange(OW)[None, :]
    divisor = _avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override)
    share = (grad_out / divisor).astype(grad_out.dtype)
    grad_x = np.zeros((N, C, H, W), dtype=grad_out.dtype)
    for kh in _taps(H, OH, KH, SH, PH, 1):
        ih = np.broadcast_to(oh * SH - PH + kh, (OH, OW))
        for kw in _taps(W, OW, KW, SW, PW, 1):
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
    _check_adaptive("adaptive_avg_pool2d_forward", x, None, OH, OW)
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
    _check_adaptive("adaptive_avg_pool2d_backward", grad_out, None, None, None, H, W)
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
    _check_adaptive("adaptive_max_pool2d_forward", x, None, OH, OW)
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
    _check_adaptive("adaptive_max_pool2d_backward", grad_out, argmax, None, None, H, W)
    return _scatter_add_by_index(grad_out, argmax, H, W)


# -------------------------------------------------------------------- unpooling
def max_unpool2d_forward(x, indices, OH, OW):
    """out[n, c] is an (OH, OW) plane of zeros with out[n, c].flat[indices[n, c, i, j]]
    = x[n, c, i, j]: every pooled value goes back to where its maximum came from
    (ZFNet's "switches"). When two entries share an index, the later one in
    row-major order wins (PyTorch's CPU behaviour; after an overlapping max_pool2d
    such entries hold the same value anyway). Indices must be in [0, OH*OW)."""
    _check_unpool("max_unpool2d_forward", x, indices, OH, OW)
    N, C = x.shape[:2]
    planes = N * C
    out = np.zeros((planes, OH * OW), dtype=x.dtype)
    flat_index = indices.reshape(planes, x.shape[2] * x.shape[3])  # (-1 fails for 0 planes)
    flat_x = x.reshape(flat_index.shape)
    for p in range(planes):
        # For each target index keep its LAST occurrence: np.unique on the reversed
        # row returns the position of each index's first occurrence there.
        targets, last = np.unique(flat_index[p, ::-1], return_index=True)
        out[p, targets] = flat_x[p, ::-1][last]
    return out.reshape(N, C, OH, OW)


def max_unpool2d_backward(grad_out, indices):
    """grad_x[n, c, i, j] = grad_out[n, c].flat[indices[n, c, i, j]] (a gather)."""
    _check_unpool("max_unpool2d_backward", grad_out, indices)
    N, C = grad_out.shape[:2]
    flat_grad = grad_out.reshape(N * C, grad_out.shape[2] * grad_out.shape[3])
    flat_index = indices.reshape(N * C, indices.shape[2] * indices.shape[3])
    grad_x = np.take_along_axis(flat_grad, flat_index, axis=1)
    return grad_x.reshape(indices.shape)


# ------------------------------------------------------------------ argument checks
def _check_window(kernel, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW):
    """A strided window: sizes and padding >= 0; kernel, stride, dilation >= 1; and the
    positions the kernels compute in 32-bit ints (a plane's flat index, the padded input,
    the reach of the last window) fit one."""
    H, W, OH, OW, PH, PW = args.integers(kernel, H=H, W=W, OH=OH, OW=OW, PH=PH, PW=PW)
    KH, KW, SH, SW, DH, DW = args.integers(kernel, minimum=1, KH=KH, KW=KW, SH=SH, SW=SW, DH=DH, DW=DW)
    args.extent(kernel, "H * W", H * W)
    args.extent(kernel, "OH * OW", OH * OW)
    args.extent(kernel, "H + 2 * PH", H + 2 * PH)
    args.extent(kernel, "W + 2 * PW", W + 2 * PW)
    args.extent(kernel, "(OH - 1) * SH + (KH - 1) * DH + 1", max(OH - 1, 0) * SH + (KH - 1) * DH + 1)
    args.extent(kernel, "(OW - 1) * SW + (KW - 1) * DW + 1", max(OW - 1, 0) * SW + (KW - 1) * DW + 1)


def _check_planes(kernel, name, array, argmax=None, H=None, W=None):
    """``array`` (N, C, rows, columns) float; ``argmax`` an index array of its shape whose
    entries are -1 (a window that saw no input) or in [0, H*W). Returns its shape."""
    shape = args.float_array(kernel, name, array, ndim=4)
    if argmax is not None:
        args.index_array(kernel, "argmax", argmax, shape=shape)
        args.indices_within(kernel, "argmax", argmax, H * W, allowed=-1)
    return shape


def _check_max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    H, W = _check_planes("max_pool2d_forward", "x", x)[2:]
    _check_window("max_pool2d_forward", H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW)


def _check_max_pool2d_backward(grad_out, argmax, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    H, W = args.integers("max_pool2d_backward", H=H, W=W)
    OH, OW = _check_planes("max_pool2d_backward", "grad_out", grad_out, argmax, H, W)[2:]
    _check_window("max_pool2d_backward", H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW)


def _check_avg_pool2d_forward(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override):
    H, W = _check_planes("avg_pool2d_forward", "x", x)[2:]
    _check_window("avg_pool2d_forward", H, W, OH, OW, KH, KW, SH, SW, PH, PW, 1, 1)
    _check_divisor("avg_pool2d_forward", count_include_pad, divisor_override)


def _check_avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    OH, OW = _check_planes("avg_pool2d_backward", "grad_out", grad_out)[2:]
    _check_window("avg_pool2d_backward", H, W, OH, OW, KH, KW, SH, SW, PH, PW, 1, 1)
    _check_divisor("avg_pool2d_backward", count_include_pad, divisor_override)


def _check_divisor(kernel, count_include_pad, divisor_override):
    """count_include_pad a bool; divisor_override any int64 (0: none), which the CUDA
    kernels take as long long."""
    if not isinstance(count_include_pad, (bool, np.bool_, int, np.integer)):
        raise TypeError(f"{kernel}: count_include_pad must be a bool, got {count_include_pad!r}")
    if isinstance(divisor_override, (bool, np.bool_)) or not isinstance(divisor_override, (int, np.integer)):
        raise TypeError(f"{kernel}: divisor_override must be an int (0: none), got {divisor_override!r}")
    if not -(2**63) <= int(divisor_override) < 2**63:
        raise ValueError(f"{kernel}: divisor_override must fit a 64-bit int, got {divisor_override}")


def _check_adaptive(kernel, x, argmax, OH, OW, H=None, W=None):
    """The adaptive kernels: forward x (N, C, H, W) with H, W >= 1 (a bin is never empty)
    and OH, OW >= 1; backward grad_out (N, C, OH, OW) (and argmax) with H, W >= 1. The
    bin arithmetic multiplies an output position by an input size in 32-bit ints."""
    if H is None:
        H, W = _check_planes(kernel, "x", x)[2:]
        OH, OW = args.integers(kernel, minimum=1, OH=OH, OW=OW)
    else:
        OH, OW = _check_planes(kernel, "grad_out", x)[2:]
        H, W = args.integers(kernel, minimum=1, H=H, W=W)
        if argmax is not None:
            _check_planes(kernel, "grad_out", x, argmax, H, W)
    if H < 1 or W < 1:
        raise ValueError(f"{kernel}: the input must have non-zero height and width, got H={H}, W={W}")
    args.extent(kernel, "(OH + 1) * (H + 1)", (OH + 1) * (H + 1))
    args.extent(kernel, "(OW + 1) * (W + 1)", (OW + 1) * (W + 1))


def _check_unpool(kernel, x, indices, OH=None, OW=None):
    """max_unpool2d_forward: x (N, C, IH, IW) and indices of its shape into (OH, OW)
    planes; max_unpool2d_backward: grad_out (N, C, OH, OW) and indices (N, C, IH, IW).
    Every index is in [0, OH*OW): the kernels follow them."""
    if OH is None:
        N, C, OH, OW = _check_planes(kernel, "grad_out", x)
        shape = args.index_array(kernel, "indices", indices, ndim=4)
        if shape[:2] != (N, C):
            raise ValueError(f"{kernel}: indices {shape} must have the (N, C) = {(N, C)} of grad_out")
    else:
        args.index_array(kernel, "indices", indices, shape=_check_planes(kernel, "x", x))
        OH, OW = args.integers(kernel, OH=OH, OW=OW)
    IH, IW = indices.shape[2:]
    args.extent(kernel, "OH * OW", OH * OW)
    args.extent(kernel, "IH * IW", IH * IW)
    args.indices_within(kernel, "indices", indices, OH * OW)
