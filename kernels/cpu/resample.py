"""Resampling kernels in Numba: the CPU implementation of the "resample" family.

The source-index rules (PyTorch's, including its float32 arithmetic for "nearest" and
its OH == H / OH == 2H shortcuts) are stated in kernels/reference/resample.py.
Notation: N C H W, OH OW; plane = n*C + c, arrays are seen as (N*C, H, W) stacks.

Parallelism: the outer loop of every kernel is ``prange`` over the N*C planes
(independent, numerous, contiguous in memory). The backward kernels are SCATTERS
(each output pixel adds its weighted gradient into the input pixels it read); they
are race-free without atomics because one prange iteration owns a whole plane of the
gradient. The CUDA kernels gather instead (kernels/cuda/resample.cu). The helpers
``_nearest_source``, ``_linear_source``, ``_cubic_source`` and ``_cubic_weights`` are
line-for-line twins of the device functions of the same names in resample.cu.
"""
import numpy as np
from numba import njit, prange

from ..reference.resample import _CUBIC_A


@njit(cache=True)
def _nearest_source(oh, H, OH, scale):
    """min(floor(float32(oh) * scale), H - 1), with PyTorch's CPU shortcuts. ``scale``
    is a float32; the product is non-negative, so truncation is floor."""
    if OH == H:
        return oh
    if OH == 2 * H:
        return oh // 2
    src = int(np.float32(oh) * scale)
    return min(src, H - 1)


@njit(cache=True)
def _linear_source(oh, H, OH, align_corners, scale):
    """(h0, h1, lambda0, lambda1) of output row oh, in the type of ``scale`` (the
    input's dtype): the two input rows it reads and their weights."""
    zero = type(scale)(0)
    one = type(scale)(1)
    half = type(scale)(0.5)
    if OH == H:  # same size: a copy, as in PyTorch
        return oh, oh, one, zero
    if align_corners:
        real = scale * type(scale)(oh)
    else:
        real = max(scale * (type(scale)(oh) + half) - half, zero)
    h0 = min(int(real), H - 1)  # real >= 0, so truncation is floor
    lambda1 = min(max(real - type(scale)(h0), zero), one)
    h1 = h0 + 1 if h0 < H - 1 else h0
    return h0, h1, one - lambda1, lambda1


# --------------------------------------------------------------------- nearest
@njit(parallel=True, cache=True)
def _upsample_nearest2d_forward(x, out, scale_h, scale_w):
    """out[plane, oh, ow] = x[plane, src_h(oh), src_w(ow)]. prange over planes."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            ih = _nearest_source(oh, H, OH, scale_h)
            for ow in range(OW):
                iw = _nearest_source(ow, W, OW, scale_w)
                out[plane, oh, ow] = x[plane, ih, iw]


@njit(parallel=True, cache=True)
def _upsample_nearest2d_backward(grad_out, grad_x, scale_h, scale_w):
    """grad_x[plane, src_h(oh), src_w(ow)] += grad_out[plane, oh, ow]: a scatter,
    race-free because prange runs over planes."""
    P, H, W = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            ih = _nearest_source(oh, H, OH, scale_h)
            for ow in range(OW):
                iw = _nearest_source(ow, W, OW, scale_w)
                grad_x[plane, ih, iw] += grad_out[plane, oh, ow]


def upsample_nearest2d_forward(x, OH, OW, scale_h, scale_w):
    N, C, H, W = x.shape
    out = np.empty((N * C, int(OH), int(OW)), dtype=x.dtype)
    _upsample_nearest2d_forward(_planes(x), out, np.float32(scale_h), np.float32(scale_w))
    return out.reshape(N, C, OH, OW)


def upsample_nearest2d_backward(grad_out, H, W, scale_h, scale_w):
    N, C, OH, OW = grad_out.shape
    grad_x = np.zeros((N * C, int(H), int(W)), dtype=grad_out.dtype)
    _upsample_nearest2d_backward(_planes(grad_out), grad_x, np.float32(scale_h), np.float32(scale_w))
    return grad_x.reshape(N, C, H, W)


# -------------------------------------------------------------------- bilinear
@njit(parallel=True, cache=True)
def _upsample_bilinear2d_forward(x, out, align_corners, scale_h, scale_w):
    """out[plane, oh, ow] = lambda0_h * (lambda0_w * x[h0, w0] + lambda1_w * x[h0, w1])
    + lambda1_h * (lambda0_w * x[h1, w0] + lambda1_w * x[h1, w1]). prange over planes."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            h0, h1, lambda0_h, lambda1_h = _linear_source(oh, H, OH, align_corners, scale_h)
            for ow in range(OW):
                w0, w1, lambda0_w, lambda1_w = _linear_source(ow, W, OW, align_corners, scale_w)
                top = lambda0_w * x[plane, h0, w0] + lambda1_w * x[plane, h0, w1]
                bottom = lambda0_w * x[plane, h1, w0] + lambda1_w * x[plane, h1, w1]
                out[plane, oh, ow] = lambda0_h * top + lambda1_h * bottom


@njit(parallel=True, cache=True)
def _upsample_bilinear2d_backward(grad_out, grad_x, align_corners, scale_h, scale_w):
    """Each output adds grad * lambda_h * lambda_w into its four input pixels: a
    scatter, race-free because prange runs over planes."""
    P, H, W = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            h0, h1, lambda0_h, lambda1_h = _linear_source(oh, H, OH, align_corners, scale_h)
            for ow in range(OW):
                w0, w1, lambda0_w, lambda1_w = _linear_source(ow, W, OW, align_corners, scale_w)
                g = grad_out[plane, oh, ow]
                grad_x[plane, h0, w0] += lambda0_h * lambda0_w * g
                grad_x[plane, h0, w1] += lambda0_h * lambda1_w * g
                grad_x[plane, h1, w0] += lambda1_h * lambda0_w * g
                grad_x[plane, h1, w1] += lambda1_h * lambda1_w * g


def upsample_bilinear2d_forward(x, OH, OW, align_corners, scale_h, scale_w):
    N, C, H, W = x.shape
    out = np.empty((N * C, int(OH), int(OW)), dtype=x.dtype)
    scalar = x.dtype.type
    _upsample_bilinear2d_forward(_planes(x), out, bool(align_corners), scalar(scale_h), scalar(scale_w))
    return out.reshape(N, C, OH, OW)


def upsample_bilinear2d_backward(grad_out, H, W, align_corners, scale_h, scale_w):
    N, C, OH, OW = grad_out.shape
    grad_x = np.zeros((N * C, int(H), int(W)), dtype=grad_out.dtype)
    scalar = grad_out.dtype.type
    _upsample_bilinear2d_backward(
        _planes(grad_out), grad_x, bool(align_corners), scalar(scale_h), scalar(scale_w)
    )
    return grad_x.reshape(N, C, H, W)


# --------------------------------------------------------------------- bicubic


@njit(cache=True)
def _cubic_source(oh, H, align_corners, scale):
    """(h0, t) of output row oh, in the type of ``scale``: its taps are rows h0 - 1 ..
    h0 + 2 (clamped into [0, H - 1]) at the fractional position t."""
    zero = type(scale)(0)
    one = type(scale)(1)
    half = type(scale)(0.5)
    if align_corners:
        real = scale * type(scale)(oh)
    else:
        real = scale * (type(scale)(oh) + half) - half
    h0 = min(int(np.floor(real)), H - 1)
    t = min(max(real - type(scale)(h0), zero), one)
    return h0, t


@njit(cache=True)
def _cubic1(d):
    """The cubic-convolution kernel for |d| <= 1: ((A + 2) d - (A + 3)) d^2 + 1."""
    a = type(d)(_CUBIC_A)
    return ((a + type(d)(2)) * d - (a + type(d)(3))) * d * d + type(d)(1)


@njit(cache=True)
def _cubic2(d):
    """The cubic-convolution kernel for 1 < |d| < 2: ((A d - 5A) d + 8A) d - 4A."""
    a = type(d)(_CUBIC_A)
    return ((a * d - type(d)(5) * a) * d + type(d)(8) * a) * d - type(d)(4) * a


@njit(cache=True)
def _cubic_weights(t):
    """The weights of the taps h0 - 1, h0, h0 + 1, h0 + 2 (at distances t + 1, t,
    1 - t, 2 - t)."""
    one = type(t)(1)
    two = type(t)(2)
    return _cubic2(t + one), _cubic1(t), _cubic1(one - t), _cubic2(two - t)


@njit(parallel=True, cache=True)
def _upsample_bicubic2d_forward(x, out, align_corners, scale_h, scale_w):
    """out[plane, oh, ow] = sum over i of wh_i * (sum over j of ww_j * x[row_i, col_j]).
    prange over planes."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            h0, th = _cubic_source(oh, H, align_corners, scale_h)
            weights_h = _cubic_weights(th)
            for ow in range(OW):
                w0, tw = _cubic_source(ow, W, align_corners, scale_w)
                weights_w = _cubic_weights(tw)
                value = x.dtype.type(0)
                for i in range(4):
                    row = min(max(h0 - 1 + i, 0), H - 1)
                    along_w = x.dtype.type(0)
                    for j in range(4):
                        col = min(max(w0 - 1 + j, 0), W - 1)
                        along_w += x[plane, row, col] * weights_w[j]
                    value += along_w * weights_h[i]
                out[plane, oh, ow] = value


@njit(parallel=True, cache=True)
def _upsample_bicubic2d_backward(grad_out, grad_x, align_corners, scale_h, scale_w):
    """grad_x[plane, row_i, col_j] += grad_out[plane, oh, ow] * wh_i * ww_j: a scatter,
    race-free because prange runs over planes."""
    P, H, W = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    for plane in prange(P):
        for oh in range(OH):
            h0, th = _cubic_source(oh, H, align_corners, scale_h)
            weights_h = _cubic_weights(th)
            for ow in range(OW):
                w0, tw = _cubic_source(ow, W, align_corners, scale_w)
                weights_w = _cubic_weights(tw)
                g = grad_out[plane, oh, ow]
                for i in range(4):
                    row = min(max(h0 - 1 + i, 0), H - 1)
                    for j in range(4):
                        col = min(max(w0 - 1 + j, 0), W - 1)
                        grad_x[plane, row, col] += g * weights_h[i] * weights_w[j]


def upsample_bicubic2d_forward(x, OH, OW, align_corners, scale_h, scale_w):
    N, C, H, W = x.shape
    out = np.empty((N * C, int(OH), int(OW)), dtype=x.dtype)
    scalar = x.dtype.type
    _upsample_bicubic2d_forward(_planes(x), out, bool(align_corners), scalar(scale_h), scalar(scale_w))
    return out.reshape(N, C, OH, OW)


def upsample_bicubic2d_backward(grad_out, H, W, align_corners, scale_h, scale_w):
    N, C, OH, OW = grad_out.shape
    grad_x = np.zeros((N * C, int(H), int(W)), dtype=grad_out.dtype)
    scalar = grad_out.dtype.type
    _upsample_bicubic2d_backward(
        _planes(grad_out), grad_x, bool(align_corners), scalar(scale_h), scalar(scale_w)
    )
    return grad_x.reshape(N, C, H, W)


def _planes(a):
    """(N, C, H, W) -> a C-contiguous (N*C, H, W) view (a copy only if needed)."""
    N, C, H, W = a.shape
    return np.ascontiguousarray(a).reshape(N * C, H, W)
