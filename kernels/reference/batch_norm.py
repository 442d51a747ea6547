"""Batch normalization kernels in plain NumPy: the specification of the ``batch_norm`` family.

Every implementation (``kernels/cpu/batch_norm.py``, ``kernels/cuda/batch_norm.py``) exports
these names with these signatures and is tested against this file.

Layout: x (N, C, *) C-contiguous; the trailing dims (H, W, or L, or none) are flattened
into S, so element (n, c, s) of the (N, C, S) view is x[(n * C + c) * S + s]. A channel's
M = N * S values are N runs of S contiguous values.

    statistics      mean[c] = sum_{n, s} x[n, c, s] / M
                    var[c]  = sum_{n, s} (x[n, c, s] - mean[c])^2 / M      (biased)
    scale_shift     y[n, c, s] = x[n, c, s] * scale[c] + shift[c]
    backward        xhat = (x - mean[c]) * invstd[c]
                    sum_dy[c] = sum_{n, s} dy,   sum_dy_xhat[c] = sum_{n, s} dy * xhat
                    dx = weight[c] invstd[c] (dy - sum_dy[c] / M - xhat sum_dy_xhat[c] / M)

The op (``ops/batch_norm.py``) folds the statistics and the affine parameters into the
per-channel ``scale = weight * invstd`` and ``shift = bias - mean * scale`` (in float64),
so the normalize pass is a single multiply-add per element.

Statistics are two-pass (the mean first, then the mean of squared deviations from it),
which avoids the cancellation of E[x^2] - E[x]^2, and are returned in float64 whatever
the input dtype: the running statistics and invstd are computed from them in float64.
The other kernels return arrays of x's dtype.
"""
import numpy as np


def _validate_channels(x, **per_channel):
    """x must be a float array of shape (N, C, *); each named per-channel array must have
    shape (C,) and x's dtype. Raises before any kernel runs."""
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
    """(N, C, S) of an (N, C, *) array, S being the product of the trailing dims."""
    return x.shape[0], x.shape[1], int(np.prod(x.shape[2:], dtype=np.int64))


def batch_norm_statistics(x):
    """Per-channel mean and biased variance over the M = N * S values of each channel:

        mean[c] = sum_{n, s} x[n, c, s] / M,   var[c] = sum_{n, s} (x[n, c, s] - mean[c])^2 / M.

    x: (N, C, *). Returns (mean (C,), var (C,)) in float64; NaN for a channel with no
    values (M = 0).
    """
    _validate_channels(x)
    N, C, S = _channel_geometry(x)
    M = N * S
    values = x.reshape(N, C, S).astype(np.float64)
    if M == 0:
        return np.full(C, np.nan), np.full(C, np.nan)
    mean = values.sum(axis=(0, 2)) / M
    centered = values - mean[None, :, None]
    var = (centered * centered).sum(axis=(0, 2)) / M
    return mean, var


def batch_norm_scale_shift(x, scale, shift):
    """y[n, c, s] = x[n, c, s] * scale[c] + shift[c]; x (N, C, *), scale and shift (C,) of
    x's dtype; y has x's shape and dtype."""
    _validate_channels(x, scale=scale, shift=shift)
    broadcast = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return x * scale.reshape(broadcast) + shift.reshape(broadcast)


def batch_norm_backward_reduce(dy, x, mean, invstd):
    """Per-channel sums over n and s:

        sum_dy[c] = sum dy[:, c, :],   sum_dy_xhat[c] = sum dy[:, c, :] * xhat[:, c, :],
        xhat = (x - mean[c]) * invstd[c].

    dy, x: (N, C, *); mean, invstd: (C,) (batch statistics in training, running
    statistics in eval). Returns (sum_dy (C,), sum_dy_xhat (C,)) in x's dtype: the bias
    and weight gradients, and (divided by M) the two means of the input gradient.
    """
    N, C, S = _channel_geometry(x)
    dy64 = dy.reshape(N, C, S).astype(np.float64)
    xhat = (x.reshape(N, C, S).astype(np.float64) - _column(mean)) * _column(invstd)
    return dy64.sum(axis=(0, 2)).astype(x.dtype), (dy64 * xhat).sum(axis=(0, 2)).astype(x.dtype)


def batch_norm_backward_input(dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat):
    """Input gradient of training-mode batch norm (statistics of the batch), M = N * S:

        dx[n, c, s] = weight[c] * invstd[c] * (dy - sum_dy[c] / M - xhat * sum_dy_xhat[c] / M).

    dy, x: (N, C, *); mean, invstd, sum_dy, sum_dy_xhat: (C,); weight (C,) or None.
    Returns dx with x's shape and dtype.
    """
    N, C, S = _channel_geometry(x)
    M = N * S
    w = np.ones(C) if weight is None else weight.astype(np.float64)
    values = x.reshape(N, C, S).astype(np.float64)
    xhat = (values - _column(mean)) * _column(invstd)
    gradient = dy.reshape(N, C, S) - _column(sum_dy) / M - xhat * _column(sum_dy_xhat) / M
    dx = _column(w * invstd) * gradient
    return dx.astype(x.dtype).reshape(x.shape)


def _input_gradient_coefficients(invstd, weight, sum_dy, sum_dy_xhat, M):
    """``batch_norm_backward_input`` folded per channel into dx = A dy - B (x - mean) - K
    with A = weight invstd, B = A invstd sum_dy_xhat / M, K = A sum_dy / M (float64
    arrays of the inputs' array module): what the Numba and CUDA forms evaluate, one
    multiply-add chain per element."""
    w = 1.0 if weight is None else weight.astype(np.float64)
    inv = invstd.astype(np.float64)
    A = w * inv
    return A, A * inv * sum_dy_xhat / M, A * sum_dy / M


def _column(values):
    """(C,) per-channel values as (1, C, 1), to broadcast against (N, C, S)."""
    return values.astype(np.float64)[None, :, None]
