"""Shared by the deformable-convolution tests: torchvision's bilinear sampling rule point by
point, the convolution written from it as plain loops (independent of the kernels), and
a guard that no kernel runs."""

import math

import numpy as np


def bilinear_sample(plane, ph, pw):
    """torchvision's rule for one point: 0 outside (-1, H) x (-1, W), otherwise the four
    pixels around the point weighted by closeness, a pixel outside counting 0."""
    H, W = plane.shape
    if not (-1 < ph < H and -1 < pw < W):
        return 0.0
    h0, w0 = math.floor(ph), math.floor(pw)
    total = 0.0
    for h in (h0, h0 + 1):
        for w in (w0, w0 + 1):
            if 0 <= h < H and 0 <= w < W:
                total += (1 - abs(ph - h)) * (1 - abs(pw - w)) * plane[h, w]
    return total


def direct_deform_conv2d(x, offset, w, b, mask, stride, padding, dilation):
    """y[n, k, oh, ow] = b[k] + sum over the channels c of k's weight group and the taps
    (kh, kw) of w[k, c, kh, kw] * m * (x[n, c] sampled at the tap's moved position),
    channel c taking the offsets and mask of its offset group; samples point by point."""
    N, C, H, W = x.shape
    K, Cg, KH, KW = w.shape
    _, _, OH, OW = offset.shape
    OG = offset.shape[1] // (2 * KH * KW)
    (SH, SW), (PH, PW), (DH, DW) = stride, padding, dilation
    samples = np.zeros((N, C, KH, KW, OH, OW))
    for n, c, kh, kw, oh, ow in np.ndindex(samples.shape):
        t = (c // (C // OG) * KH + kh) * KW + kw
        ph = oh * SH - PH + kh * DH + offset[n, 2 * t, oh, ow]
        pw = ow * SW - PW + kw * DW + offset[n, 2 * t + 1, oh, ow]
        m = 1.0 if mask is None else mask[n, t, oh, ow]
        samples[n, c, kh, kw, oh, ow] = m * bilinear_sample(x[n, c], ph, pw)
    Kg = K // (C // Cg)  # output channels per weight group
    y = np.zeros((N, K, OH, OW))
    for k in range(K):
        channels = slice(k // Kg * Cg, (k // Kg + 1) * Cg)
        y[:, k] = np.einsum("cij,ncijhw->nhw", w[k], samples[:, channels])
    if b is not None:
        y += b.reshape(1, K, 1, 1)
    return y


def forbid_kernels(monkeypatch):
    """Make every Numba deformable-convolution kernel fail the test: argument errors
    must come first."""
    from minitorch_cv.kernels.cpu import deform_conv as kernels

    def forbidden(*args, **kwargs):
        raise AssertionError("a deform_conv kernel ran before the arguments were checked")

    for name in ("deform_im2col", "deform_col2im", "deform_col2offset"):
        monkeypatch.setattr(kernels, name, forbidden)
