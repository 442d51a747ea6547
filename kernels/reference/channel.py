"""Per-channel operations on NCHW arrays: batch norm's statistics and its affine step.

Notation: x has shape (N, C, ...) where the trailing dims (H, W, or L, or none) are
flattened into HW, so (N, C), (N, C, L) and (N, C, H, W) are all accepted; element
(n, c, i) of that (N, C, HW) view is x[n, c, i].

This is the specification the Numba (kernels/cpu/channel.py) and CUDA
(kernels/cuda/channel.cu) implementations are tested against.
"""
import numpy as np


def _validate_channel_input(x, **per_channel):
    """x must be a float array with at least 2 dims; each named per-channel array must
    have shape (C,) and x's dtype. Raises before any kernel runs."""
    if x.ndim < 2:
        raise ValueError(f"x: expected an array of shape (N, C, ...) with at least 2 dims, got shape {x.shape}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x: expected float32 or float64, got {x.dtype}")
    C = x.shape[1]
    for name, array in per_channel.items():
        if array.shape != (C,):
            raise ValueError(f"{name}: expected shape ({C},) (one value per channel of x), got {array.shape}")
        if array.dtype != x.dtype:
            raise TypeError(f"{name}: expected dtype {x.dtype} (that of x), got {array.dtype}")


def _channel_geometry(x):
    """(N, C, HW) of an (N, C, ...) array, HW being the product of the trailing dims."""
    return x.shape[0], x.shape[1], int(np.prod(x.shape[2:], dtype=np.int64))


def channel_sums(x, shift=None):
    """Per-channel sum and sum of squares of (x - shift[c]):

        sums[c]            = sum over n, i of (x[n, c, i] - shift[c])
        sums_of_squares[c] = sum over n, i of (x[n, c, i] - shift[c])^2

    shift defaults to zeros. Shifting by an estimate of the mean keeps the variance
    accurate: var = sums_of_squares / M - (sums / M)^2 with M = N * HW. Accumulated in
    float64, returned in x's dtype.
    """
    if shift is None:
        shift = np.zeros(x.shape[1] if x.ndim >= 2 else 0, dtype=x.dtype)
    _validate_channel_input(x, shift=shift)
    N, C, HW = _channel_geometry(x)
    d = x.reshape(N, C, HW).astype(np.float64) - shift.astype(np.float64)[None, :, None]
    sums = d.sum(axis=(0, 2))
    sums_of_squares = (d * d).sum(axis=(0, 2))
    return sums.astype(x.dtype), sums_of_squares.astype(x.dtype)


def channel_scale_shift(x, scale, shift):
    """y[n, c, i] = x[n, c, i] * scale[c] + shift[c]; y has x's shape and dtype."""
    _validate_channel_input(x, scale=scale, shift=shift)
    broadcast = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return x * scale.reshape(broadcast) + shift.reshape(broadcast)
