"""Local response normalization in plain NumPy: the specification of the
``local_response_norm`` family.

Every implementation (``kernels/cpu/local_response_norm.py``,
``kernels/cuda/local_response_norm.py``) exports these names with these signatures and
is tested against this file. Layout: x (N, C, S), C-contiguous, S the product of the
spatial dims; computed in float64, returned in the input dtype.
"""
import numpy as np


def lrn_forward(x, size, alpha, beta, k):
    """AlexNet's local response normalization across channels, PyTorch's definition:

        scale[n, c, s] = k + alpha / size * sum_{j in W(c)} x[n, j, s]^2
        y[n, c, s]     = x[n, c, s] * scale[n, c, s] ^ (-beta)

    W(c) = [c - size // 2, c + (size - 1) // 2] clipped to [0, C - 1] (PyTorch pads
    size // 2 zero channels before and (size - 1) // 2 after, and divides by size
    whatever the clipping). x: (N, C, S). Returns (y, scale), both (N, C, S).
    """
    N, C, S = x.shape
    squares = x.astype(np.float64) ** 2
    window_sum = np.zeros_like(squares)
    for c in range(C):
        lo, hi = max(c - size // 2, 0), min(c + (size - 1) // 2, C - 1)
        window_sum[:, c, :] = squares[:, lo : hi + 1, :].sum(axis=1)
    scale = k + alpha / size * window_sum
    y = x * scale ** (-beta)
    return y.astype(x.dtype), scale.astype(x.dtype)


def lrn_backward(dy, x, y, scale, size, alpha, beta):
    """Input gradient of ``lrn_forward``:

        dx[n, j, s] = dy[n, j, s] * scale[n, j, s] ^ (-beta)
                      - 2 alpha beta / size * x[n, j, s]
                        * sum_{c : j in W(c)} dy[n, c, s] * y[n, c, s] / scale[n, c, s]

    j in W(c) exactly when c lies in [j - (size - 1) // 2, j + size // 2] (the window
    mirrored; it differs from W(j) when size is even). dy, x, y, scale: (N, C, S).
    Returns dx (N, C, S).
    """
    N, C, S = x.shape
    ratio = dy.astype(np.float64) * y / scale
    mirrored_sum = np.zeros(ratio.shape)
    for j in range(C):
        lo, hi = max(j - (size - 1) // 2, 0), min(j + size // 2, C - 1)
        mirrored_sum[:, j, :] = ratio[:, lo : hi + 1, :].sum(axis=1)
    dx = dy * scale.astype(np.float64) ** (-beta) - 2.0 * alpha * beta / size * x * mirrored_sum
    return dx.astype(x.dtype)
