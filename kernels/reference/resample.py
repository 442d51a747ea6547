"""Resampling kernels in NumPy: the readable specification of the "resample" family.

Notation: N batch, C channels, H W input size, OH OW output size. Each output row oh
reads input rows chosen by a source-index rule; columns work the same way, so every
rule below is written for rows and applied to both axes (the interpolations are
separable). ``scale`` is the source step per output pixel, computed by the op exactly
as PyTorch does:
    align_corners=True (bilinear only):   (H - 1) / (OH - 1), or 0 when OH == 1
    scale_factor given (and not recomputed): 1 / scale_factor
    otherwise:                             H / OH

nearest (PyTorch's legacy "nearest", in float32 like PyTorch):
    src(oh) = min(floor(float32(oh) * float32(scale)), H - 1)
    with PyTorch's CPU shortcuts: src(oh) = oh when OH == H, and oh // 2 when OH == 2H
    (they differ from the formula only when a scale_factor was given).
    out[n, c, oh, ow] = x[n, c, src_h(oh), src_w(ow)]

bilinear (in the input's dtype, as PyTorch computes in float for float input):
    real(oh) = scale * oh                                 align_corners=True
    real(oh) = max(scale * (oh + 0.5) - 0.5, 0)           align_corners=False
    h0 = min(floor(real), H - 1),  h1 = h0 + 1 if h0 < H - 1 else h0
    lambda1 = clip(real - h0, 0, 1),  lambda0 = 1 - lambda1
    (when OH == H the rows are copied: h0 = h1 = oh, lambda0 = 1, lambda1 = 0)
    out = lambda0_h * (lambda0_w * x[h0, w0] + lambda1_w * x[h0, w1])
        + lambda1_h * (lambda0_w * x[h1, w0] + lambda1_w * x[h1, w1])

bicubic (PyTorch's cubic convolution with A = -0.75, in the input's dtype):
    real(oh) = scale * oh                                 align_corners=True
    real(oh) = scale * (oh + 0.5) - 0.5                   align_corners=False (no clamp)
    h0 = min(floor(real), H - 1),  t = clip(real - h0, 0, 1)
    taps: rows h0 - 1, h0, h0 + 1, h0 + 2, each clamped into [0, H - 1], with weights
        w0 = cubic2(t + 1), w1 = cubic1(t), w2 = cubic1(1 - t), w3 = cubic2(2 - t)
        cubic1(d) = ((A + 2) d - (A + 3)) d^2 + 1              (|d| <= 1)
        cubic2(d) = ((A d - 5A) d + 8A) d - 4A                  (1 < |d| < 2)
    out = sum over i of wh_i * (sum over j of ww_j * x[row_i, col_j])
    (no same-size shortcut: PyTorch computes bicubic even when OH == H)

The backward of each is the transposed scatter: each output pixel sends its gradient
(times its weights) back to the input pixels it read.

Exported kernels (the same names and signatures in kernels/cpu/resample.py and
kernels/cuda/resample.py):
    upsample_nearest2d_forward(x, OH, OW, scale_h, scale_w) -> out
    upsample_nearest2d_backward(grad_out, H, W, scale_h, scale_w) -> grad_x
    upsample_bilinear2d_forward(x, OH, OW, align_corners, scale_h, scale_w) -> out
    upsample_bilinear2d_backward(grad_out, H, W, align_corners, scale_h, scale_w) -> grad_x
    upsample_bicubic2d_forward(x, OH, OW, align_corners, scale_h, scale_w) -> out
    upsample_bicubic2d_backward(grad_out, H, W, align_corners, scale_h, scale_w) -> grad_x
"""
import numpy as np


# --------------------------------------------------------------------- nearest
def _nearest_source_index(size, out_size, scale):
    """src(o) for o = 0 .. out_size-1 (see the module docstring)."""
    dst = np.arange(out_size)
    if out_size == size:
        return dst
    if out_size == 2 * size:
        return dst // 2
    src = np.floor(dst.astype(np.float32) * np.float32(scale)).astype(np.int64)
    return np.minimum(src, size - 1)


def upsample_nearest2d_forward(x, OH, OW, scale_h, scale_w):
    """out[n, c, oh, ow] = x[n, c, src_h(oh), src_w(ow)]."""
    H, W = x.shape[2:]
    ih = _nearest_source_index(H, OH, scale_h)
    iw = _nearest_source_index(W, OW, scale_w)
    return x[:, :, ih[:, None], iw[None, :]]


def upsample_nearest2d_backward(grad_out, H, W, scale_h, scale_w):
    """grad_x[n, c, ih, iw] = sum of grad_out[n, c, oh, ow] over src(oh, ow) = (ih, iw),
    summed one axis at a time (rows, then columns)."""
    N, C, OH, OW = grad_out.shape
    ih = _nearest_source_index(H, OH, scale_h)
    iw = _nearest_source_index(W, OW, scale_w)
    rows = np.zeros((N, C, H, OW), dtype=grad_out.dtype)
    np.add.at(rows, (slice(None), slice(None), ih), grad_out)
    grad_x = np.zeros((N, C, H, W), dtype=grad_out.dtype)
    np.add.at(grad_x, (slice(None), slice(None), slice(None), iw), rows)
    return grad_x


# -------------------------------------------------------------------- bilinear
def _linear_source_index(size, out_size, align_corners, scale, dtype):
    """(i0, i1, lambda0, lambda1) for o = 0 .. out_size-1 (see the module docstring),
    the arithmetic done in ``dtype``."""
    dst = np.arange(out_size)
    if out_size == size:
        ones = np.ones(out_size, dtype=dtype)
        return dst, dst, ones, np.zeros(out_size, dtype=dtype)
    scale = dtype.type(scale)
    d = dst.astype(dtype)
    if align_corners:
        real = scale * d
    else:
        real = np.maximum(scale * (d + dtype.type(0.5)) - dtype.type(0.5), dtype.type(0))
    i0 = np.minimum(np.floor(real).astype(np.int64), size - 1)
    lambda1 = np.clip(real - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = np.where(i0 < size - 1, i0 + 1, i0)
    return i0, i1, (dtype.type(1) - lambda1), lambda1


def upsample_bilinear2d_forward(x, OH, OW, align_corners, scale_h, scale_w):
    """out = lambda0_h * (lambda0_w * x[h0, w0] + lambda1_w * x[h0, w1])
           + lambda1_h * (lambda0_w * x[h1, w0] + lambda1_w * x[h1, w1])."""
    H, W = x.shape[2:]
    h0, h1, lh0, lh1 = _linear_source_index(H, OH, align_corners, scale_h, x.dtype)
    w0, w1, lw0, lw1 = _linear_source_index(W, OW, align_corners, scale_w, x.dtype)
    h0, h1, lh0, lh1 = h0[:, None], h1[:, None], lh0[:, None], lh1[:, None]
    top = lw0 * x[:, :, h0, w0] + lw1 * x[:, :, h0, w1]
    bottom = lw0 * x[:, :, h1, w0] + lw1 * x[:, :, h1, w1]
    return lh0 * top + lh1 * bottom


def upsample_bilinear2d_backward(grad_out, H, W, align_corners, scale_h, scale_w):
    """The adjoint of the forward: grad_out[oh, ow] * lambda_h * lambda_w is added to
    each of the four input pixels output (oh, ow) read, one axis at a time."""
    N, C, OH, OW = grad_out.shape
    dtype = grad_out.dtype
    h0, h1, lh0, lh1 = _linear_source_index(H, OH, align_corners, scale_h, dtype)
    w0, w1, lw0, lw1 = _linear_source_index(W, OW, align_corners, scale_w, dtype)
    rows = np.zeros((N, C, H, OW), dtype=dtype)
    np.add.at(rows, (slice(None), slice(None), h0), grad_out * lh0[:, None])
    np.add.at(rows, (slice(None), slice(None), h1), grad_out * lh1[:, None])
    grad_x = np.zeros((N, C, H, W), dtype=dtype)
    np.add.at(grad_x, (slice(None), slice(None), slice(None), w0), rows * lw0)
    np.add.at(grad_x, (slice(None), slice(None), slice(None), w1), rows * lw1)
    return grad_x


# --------------------------------------------------------------------- bicubic
_CUBIC_A = -0.75  # PyTorch's cubic convolution constant


def _cubic_taps(size, out_size, align_corners, scale, dtype):
    """(rows, weights), each (out_size, 4): the four clamped source rows of every output
    row and their cubic-convolution weights (see the module docstring)."""
    dtype = np.dtype(dtype)
    d = np.arange(out_size).astype(dtype)
    scale = dtype.type(scale)
    if align_corners:
        real = scale * d
    else:
        real = scale * (d + dtype.type(0.5)) - dtype.type(0.5)
    h0 = np.minimum(np.floor(real).astype(np.int64), size - 1)
    t = np.clip(real - h0.astype(dtype), 0, 1).astype(dtype)
    one, two, a = dtype.type(1), dtype.type(2), dtype.type(_CUBIC_A)

    def cubic1(x):
        return ((a + two) * x - (a + dtype.type(3))) * x * x + one

    def cubic2(x):
        return ((a * x - dtype.type(5) * a) * x + dtype.type(8) * a) * x - dtype.type(4) * a

    weights = np.stack([cubic2(t + one), cubic1(t), cubic1(one - t), cubic2(two - t)], axis=1)
    rows = np.clip(h0[:, None] - 1 + np.arange(4), 0, size - 1)
    return rows, weights


def upsample_bicubic2d_forward(x, OH, OW, align_corners, scale_h, scale_w):
    """out = sum over i of wh_i * (sum over j of ww_j * x[row_i, col_j]), the inner sum
    (along W) first, each sum in tap order."""
    N, C, H, W = x.shape
    rows, weights_h = _cubic_taps(H, OH, align_corners, scale_h, x.dtype)
    cols, weights_w = _cubic_taps(W, OW, align_corners, scale_w, x.dtype)
    out = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for i in range(4):
        along_w = np.zeros((N, C, OH, OW), dtype=x.dtype)
        for j in range(4):
            along_w = along_w + x[:, :, rows[:, i][:, None], cols[:, j][None, :]] * weights_w[:, j]
        out = out + along_w * weights_h[:, i][:, None]
    return out


def upsample_bicubic2d_backward(grad_out, H, W, align_corners, scale_h, scale_w):
    """The adjoint: grad_out[oh, ow] * wh_i * ww_j is added to x[row_i, col_j], one axis
    at a time (rows, then columns)."""
    N, C, OH, OW = grad_out.shape
    dtype = grad_out.dtype
    rows, weights_h = _cubic_taps(H, OH, align_corners, scale_h, dtype)
    cols, weights_w = _cubic_taps(W, OW, align_corners, scale_w, dtype)
    along_w = np.zeros((N, C, H, OW), dtype=dtype)
    for i in range(4):
        np.add.at(along_w, (slice(None), slice(None), rows[:, i]), grad_out * weights_h[:, i][:, None])
    grad_x = np.zeros((N, C, H, W), dtype=dtype)
    for j in range(4):
        np.add.at(grad_x, (slice(None), slice(None), slice(None), cols[:, j]), along_w * weights_w[:, j])
    return grad_x
