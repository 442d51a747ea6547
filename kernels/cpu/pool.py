"""Pooling kernels in Numba: the CPU implementation of the "pool" family.

The formulas, the index layout and the tie rule are those of kernels/reference/pool.py
(read its docstring first). Notation: N C H W, OH OW, KH KW, SH SW, PH PW, DH DW; a
"plane" is one (n, c) pair, plane = n*C + c, and every kernel sees its arrays as
(N*C, H, W) stacks of planes.

Parallelism: every kernel's outer loop is ``prange`` over the N*C planes. Planes are
independent and there are many of them in training (N*C = 8192 for a 128 x 64 batch),
so two or sixteen cores are kept busy, each with a contiguous block of memory.
Because one iteration owns a whole plane, a backward can SCATTER (each output adds its
gradient into the input pixels it came from) without races or atomics: no other
thread writes into that plane. The CUDA kernels (kernels/cuda/pool.cu) cannot own
whole planes (there are far too few of them for a GPU), so their backward kernels
GATHER instead; their forward kernels decode (plane, oh, ow) with the same names in
the same order as the loops here.
"""
import numpy as np
from numba import njit, prange


# ------------------------------------------------------------------ max pooling
@njit(parallel=True, cache=True)
def _max_pool2d_forward(x, out, argmax, KH, KW, SH, SW, PH, PW, DH, DW):
    """out[plane, oh, ow] = max of the window's in-bounds taps, argmax = ih*W + iw of
    the first maximum (kh-major scan; NaN wins). prange over planes."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                hstart = oh * SH - PH
                wstart = ow * SW - PW
                best = -np.inf
                best_index = -1
                for kh in range(KH):
                    ih = hstart + kh * DH
                    if ih < 0 or ih >= H:
                        continue
                    for kw in range(KW):
                        iw = wstart + kw * DW
                        if iw < 0 or iw >= W:
                            continue
                        val = x[plane, ih, iw]
                        if best_index < 0 or val > best or val != val:
                            best = val
                            best_index = ih * W + iw
                out[plane, oh, ow] = best
                argmax[plane, oh, ow] = best_index


@njit(parallel=True, cache=True)
def _scatter_add_by_index(grad_out, argmax, grad_x):
    """grad_x[plane].flat[argmax[plane, oh, ow]] += grad_out[plane, oh, ow].
    prange over planes: one iteration owns a plane of grad_x, so the scatter is
    race-free; indices outside the plane (-1 of an empty window) are skipped."""
    P, H, W = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                index = argmax[plane, oh, ow]
                if index < 0 or index >= H * W:
                    continue
                iw = index % W
                ih = index // W
                grad_x[plane, ih, iw] += grad_out[plane, oh, ow]


def max_pool2d_forward(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    N, C, H, W = x.shape
    out = np.empty((N * C, OH, OW), dtype=x.dtype)
    argmax = np.empty((N * C, OH, OW), dtype=np.int64)
    _max_pool2d_forward(_planes(x), out, argmax, *_ints(KH, KW, SH, SW, PH, PW, DH, DW))
    return out.reshape(N, C, OH, OW), argmax.reshape(N, C, OH, OW)


def max_pool2d_backward(grad_out, argmax, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """Scatter through the saved argmax (the window geometry is not needed here)."""
    return _scatter_backward(grad_out, argmax, H, W)


def _scatter_backward(grad_out, argmax, H, W):
    N, C, OH, OW = grad_out.shape
    grad_x = np.zeros((N * C, int(H), int(W)), dtype=grad_out.dtype)
    _scatter_add_by_index(_planes(grad_out), _planes(argmax), grad_x)
    return grad_x.reshape(N, C, H, W)


# -------------------------------------------------------------- average pooling
@njit(cache=True)
def _avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    """PyTorch's divisor of window (oh, ow): the window clipped to the padded image
    (count_include_pad), or to the image itself (not count_include_pad), unless
    divisor_override != 0. Same lines as avg_pool_divisor in pool.cu."""
    hstart = oh * SH - PH
    wstart = ow * SW - PW
    hend = min(hstart + KH, H + PH)
    wend = min(wstart + KW, W + PW)
    if divisor_override != 0:
        return divisor_override
    if count_include_pad:
        return (hend - hstart) * (wend - wstart)
    return (min(hend, H) - max(hstart, 0)) * (min(wend, W) - max(wstart, 0))


@njit(parallel=True, cache=True)
def _avg_pool2d_forward(x, out, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    """out[plane, oh, ow] = sum of the window's in-bounds taps / divisor(oh, ow).
    prange over planes."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                hstart = max(oh * SH - PH, 0)
                wstart = max(ow * SW - PW, 0)
                hend = min(oh * SH - PH + KH, H)
                wend = min(ow * SW - PW + KW, W)
                total = x.dtype.type(0)
                for ih in range(hstart, hend):
                    for iw in range(wstart, wend):
                        total += x[plane, ih, iw]
                divisor = _avg_pool_divisor(
                    oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override
                )
                out[plane, oh, ow] = total / divisor


@njit(parallel=True, cache=True)
def _avg_pool2d_backward(grad_out, grad_x, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    """grad_x[plane, ih, iw] += grad_out[plane, oh, ow] / divisor(oh, ow) for every tap
    of every window: a scatter, race-free because prange runs over planes."""
    P, H, W = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                hstart = max(oh * SH - PH, 0)
                wstart = max(ow * SW - PW, 0)
                hend = min(oh * SH - PH + KH, H)
                wend = min(ow * SW - PW + KW, W)
                divisor = _avg_pool_divisor(
                    oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override
                )
                share = grad_out[plane, oh, ow] / divisor
                for ih in range(hstart, hend):
                    for iw in range(wstart, wend):
                        grad_x[plane, ih, iw] += share


def avg_pool2d_forward(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override):
    N, C, H, W = x.shape
    out = np.empty((N * C, OH, OW), dtype=x.dtype)
    _avg_pool2d_forward(
        _planes(x), out, *_ints(KH, KW, SH, SW, PH, PW), bool(count_include_pad), int(divisor_override)
    )
    return out.reshape(N, C, OH, OW)


def avg_pool2d_backward(grad_out, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override):
    N, C, OH, OW = grad_out.shape
    grad_x = np.zeros((N * C, int(H), int(W)), dtype=grad_out.dtype)
    _avg_pool2d_backward(
        _planes(grad_out), grad_x, *_ints(KH, KW, SH, SW, PH, PW),
        bool(count_include_pad), int(divisor_override),
    )
    return grad_x.reshape(N, C, H, W)


# ------------------------------------------------------------- adaptive pooling
@njit(cache=True)
def _adaptive_start(o, size, out_size):
    """First row (column) of adaptive bin o: floor(o*size/out_size)."""
    return (o * size) // out_size


@njit(cache=True)
def _adaptive_end(o, size, out_size):
    """One past the last row (column) of adaptive bin o: ceil((o+1)*size/out_size)."""
    return ((o + 1) * size + out_size - 1) // out_size


@njit(parallel=True, cache=True)
def _adaptive_avg_pool2d_forward(x, out):
    """out[plane, oh, ow] = mean of the bin. prange over planes."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                hstart = _adaptive_start(oh, H, OH)
                hend = _adaptive_end(oh, H, OH)
                wstart = _adaptive_start(ow, W, OW)
                wend = _adaptive_end(ow, W, OW)
                total = x.dtype.type(0)
                for ih in range(hstart, hend):
                    for iw in range(wstart, wend):
                        total += x[plane, ih, iw]
                out[plane, oh, ow] = total / ((hend - hstart) * (wend - wstart))


@njit(parallel=True, cache=True)
def _adaptive_avg_pool2d_backward(grad_out, grad_x):
    """grad_x[plane, bin] += grad_out[plane, oh, ow] / (bin area): a scatter,
    race-free because prange runs over planes."""
    P, H, W = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                hstart = _adaptive_start(oh, H, OH)
                hend = _adaptive_end(oh, H, OH)
                wstart = _adaptive_start(ow, W, OW)
                wend = _adaptive_end(ow, W, OW)
                share = grad_out[plane, oh, ow] / ((hend - hstart) * (wend - wstart))
                for ih in range(hstart, hend):
                    for iw in range(wstart, wend):
                        grad_x[plane, ih, iw] += share


@njit(parallel=True, cache=True)
def _adaptive_max_pool2d_forward(x, out, argmax):
    """out = max of the bin, argmax = ih*W + iw of its first maximum (NaN wins).
    prange over planes."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                hstart = _adaptive_start(oh, H, OH)
                hend = _adaptive_end(oh, H, OH)
                wstart = _adaptive_start(ow, W, OW)
                wend = _adaptive_end(ow, W, OW)
                best = x[plane, hstart, wstart]  # a bin is never empty
                best_index = hstart * W + wstart
                for ih in range(hstart, hend):
                    for iw in range(wstart, wend):
                        val = x[plane, ih, iw]
                        if val > best or val != val:
                            best = val
                            best_index = ih * W + iw
                out[plane, oh, ow] = best
                argmax[plane, oh, ow] = best_index


def adaptive_avg_pool2d_forward(x, OH, OW):
    N, C, H, W = x.shape
    out = np.empty((N * C, OH, OW), dtype=x.dtype)
    _adaptive_avg_pool2d_forward(_planes(x), out)
    return out.reshape(N, C, OH, OW)


def adaptive_avg_pool2d_backward(grad_out, H, W):
    N, C, OH, OW = grad_out.shape
    grad_x = np.zeros((N * C, int(H), int(W)), dtype=grad_out.dtype)
    _adaptive_avg_pool2d_backward(_planes(grad_out), grad_x)
    return grad_x.reshape(N, C, H, W)


def adaptive_max_pool2d_forward(x, OH, OW):
    N, C, H, W = x.shape
    out = np.empty((N * C, OH, OW), dtype=x.dtype)
    argmax = np.empty((N * C, OH, OW), dtype=np.int64)
    _adaptive_max_pool2d_forward(_planes(x), out, argmax)
    return out.reshape(N, C, OH, OW), argmax.reshape(N, C, OH, OW)


def adaptive_max_pool2d_backward(grad_out, argmax, H, W):
    return _scatter_backward(grad_out, argmax, H, W)


# -------------------------------------------------------------------- unpooling
@njit(parallel=True, cache=True)
def _max_unpool2d_forward(x, indices, out):
    """out[plane].flat[indices[plane, i, j]] = x[plane, i, j], in row-major order so
    the last duplicate wins (PyTorch's CPU rule). prange over planes: one iteration
    owns a plane of out. Indices outside [0, OH*OW) are skipped (the op rejects them
    before any kernel runs)."""
    P, IH, IW = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for plane in prange(P):
        for i in range(IH):
            for j in range(IW):
                index = indices[plane, i, j]
                if index < 0 or index >= OH * OW:
                    continue
                out[plane, index // OW, index % OW] = x[plane, i, j]


@njit(parallel=True, cache=True)
def _max_unpool2d_backward(grad_out, indices, grad_x):
    """grad_x[plane, i, j] = grad_out[plane].flat[indices[plane, i, j]]: a gather.
    prange over planes."""
    P, IH, IW = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    for plane in prange(P):
        for i in range(IH):
            for j in range(IW):
                index = indices[plane, i, j]
                if index < 0 or index >= OH * OW:
                    grad_x[plane, i, j] = 0
                else:
                    grad_x[plane, i, j] = grad_out[plane, index // OW, index % OW]


def max_unpool2d_forward(x, indices, OH, OW):
    N, C, IH, IW = x.shape
    out = np.zeros((N * C, int(OH), int(OW)), dtype=x.dtype)
    _max_unpool2d_forward(_planes(x), _planes(indices), out)
    return out.reshape(N, C, OH, OW)


def max_unpool2d_backward(grad_out, indices):
    N, C, IH, IW = indices.shape
    grad_x = np.empty((N * C, IH, IW), dtype=grad_out.dtype)
    _max_unpool2d_backward(_planes(grad_out), _planes(indices), grad_x)
    return grad_x.reshape(N, C, IH, IW)


# ---------------------------------------------------------------------- helpers
def _planes(a):
    """(N, C, H, W) -> a C-contiguous (N*C, H, W) view (a copy only if ``a`` is
    not contiguous already)."""
    N, C, H, W = a.shape
    return np.ascontiguousarray(a).reshape(N * C, H, W)


def _ints(*values):
    """Python ints, so that Numba compiles one signature whatever int type came in."""
    return tuple(int(v) for v in values)
