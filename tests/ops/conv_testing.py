"""Shared by the conv2d and conv_transpose2d tests: where an op runs, random arrays,
the two convolutions written as plain loops (independent of im2col), and a guard that
no kernel runs.
"""

import contextlib

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import backend
from tests.helpers import requires_gpu

# Where an op runs: the CPU through one kernel implementation, or the GPU.
TARGETS = ["reference", "cpu", "cuda", pytest.param("gpu", marks=requires_gpu)]


def on(target):
    """(device, context manager) that runs the ops of a test on ``target``."""
    if target == "gpu":
        return "gpu", contextlib.nullcontext()
    return "cpu", backend.use_cpu_kernels(target)


def random(seed, shape, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def direct_conv2d(x, w, b, stride, padding, dilation, groups):
    """y[n, k, oh, ow] = b[k] + sum over the channels c of k's group and the taps
    (kh, kw) of w[k, c, kh, kw] * x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW], by
    plain loops over output channels, output positions and taps."""
    N, C, H, W = x.shape
    K, Cg, KH, KW = w.shape
    (SH, SW), (PH, PW), (DH, DW) = stride, padding, dilation
    OH = (H + 2 * PH - DH * (KH - 1) - 1) // SH + 1
    OW = (W + 2 * PW - DW * (KW - 1) - 1) // SW + 1
    Kg = K // groups
    y = np.zeros((N, K, OH, OW))
    for k in range(K):
        channels = slice(k // Kg * Cg, (k // Kg + 1) * Cg)
        for oh in range(OH):
            for ow in range(OW):
                for kh in range(KH):
                    for kw in range(KW):
                        ih = oh * SH - PH + kh * DH
                        iw = ow * SW - PW + kw * DW
                        if 0 <= ih < H and 0 <= iw < W:
                            y[:, k, oh, ow] += x[:, channels, ih, iw] @ w[k, :, kh, kw]
    if b is not None:
        y += b.reshape(1, K, 1, 1)
    return y


def direct_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups):
    """Every input pixel (h, w) of channel c spreads x[n, c, h, w] * w[c, j, kh, kw]
    onto output pixel (h*SH - PH + kh*DH, w*SW - PW + kw*DW) of output channel j of
    c's group (a scatter, the opposite way round from conv2d's loops)."""
    N, C, H, W = x.shape
    _, Jg, KH, KW = w.shape
    (SH, SW), (PH, PW), (OPH, OPW), (DH, DW) = stride, padding, output_padding, dilation
    OH = (H - 1) * SH - 2 * PH + DH * (KH - 1) + OPH + 1
    OW = (W - 1) * SW - 2 * PW + DW * (KW - 1) + OPW + 1
    Cg = C // groups
    y = np.zeros((N, Jg * groups, OH, OW))
    for c in range(C):
        outputs = slice(c // Cg * Jg, (c // Cg + 1) * Jg)
        for h in range(H):
            for w_ in range(W):
                for kh in range(KH):
                    for kw in range(KW):
                        oh = h * SH - PH + kh * DH
                        ow = w_ * SW - PW + kw * DW
                        if 0 <= oh < OH and 0 <= ow < OW:
                            y[:, outputs, oh, ow] += np.outer(x[:, c, h, w_], w[c, :, kh, kw])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def forbid_kernels(monkeypatch):
    """Make every Numba conv kernel fail the test: argument errors must come first."""
    from minitorch_cv.kernels.cpu import conv as kernels

    def forbidden(*args, **kwargs):
        raise AssertionError("a conv kernel ran before the arguments were checked")

    monkeypatch.setattr(kernels, "im2col", forbidden)
    monkeypatch.setattr(kernels, "col2im", forbidden)


def zeros(*shape, dtype=mt.float32):
    """A float32 tensor of zeros: the shapes are all that the error tests need."""
    return mt.zeros(*shape, dtype=dtype)
