"""Normalization kernels in plain NumPy: the specification of the ``norm`` family.

Every implementation (``kernels/cpu/norm.py``, ``kernels/cuda/norm.py``) exports these
names with these signatures and is tested against this file.

Layouts (arrays are C-contiguous; the ops reshape to these before calling):
  rows         x (R, D): layer norm, one row = the D values of the normalized dims
  channels     x (N, C, S): batch norm, group norm, LRN; S = H*W (or L, or 1) is the
               product of the spatial dims, so (N, C), (N, C, L) and (N, C, H, W)
               inputs are all (N, C, S)

Notation: N batch, C channels, G groups, CG = C / G channels per group, S spatial size,
R rows, D row length. ``xhat`` is the normalized input:

    xhat = (x - mean) * rstd,        rstd = 1 / sqrt(var + eps)

where mean and the BIASED variance var = mean((x - mean)^2) are taken over a row (layer
norm), over one (n, group) (group norm) or over one channel across (n, s) (batch norm).
The reference computes in float64 and returns arrays of the input dtype; the variance
is two-pass (the mean first, then the mean of squared deviations), which avoids the
cancellation of E[x^2] - E[x]^2.

Backward of a normalization over a set of M values (one row, group or channel), with
g = dy * weight the gradient reaching xhat:

    dx = rstd * (g - mean(g) - xhat * mean(g * xhat))

(the two means remove the components along the directions that normalization
projects out: a shift of x, and a scaling of x about its mean).
"""
import numpy as np

# ----------------------------------------------------------------------- layer norm


def layer_norm_forward(x, weight, bias, eps):
    """y[r, j] = (x[r, j] - mean[r]) * rstd[r] * weight[j] + bias[j].

    x: (R, D); weight, bias: (D,) or None (no scaling / no shift); eps > 0.
    Returns (y (R, D), mean (R,), rstd (R,)), all in x's dtype; mean and rstd are what
    the backward needs.
    """
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=1)
    centered = x64 - mean[:, None]
    var = (centered * centered).mean(axis=1)
    rstd = 1.0 / np.sqrt(var + eps)
    y = centered * rstd[:, None]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y.astype(x.dtype), mean.astype(x.dtype), rstd.astype(x.dtype)


def layer_norm_backward_input(dy, x, mean, rstd, weight):
    """dx[r] = rstd[r] * (g - mean_j(g) - xhat * mean_j(g * xhat)), g = dy[r] * weight.

    dy, x: (R, D); mean, rstd: (R,) from the forward; weight (D,) or None.
    Returns dx (R, D).
    """
    dy64 = dy.astype(np.float64)
    xhat = (x.astype(np.float64) - mean[:, None]) * rstd[:, None]
    g = dy64 * weight if weight is not None else dy64
    mean_g = g.mean(axis=1, keepdims=True)
    mean_gx = (g * xhat).mean(axis=1, keepdims=True)
    dx = rstd[:, None] * (g - mean_g - xhat * mean_gx)
    return dx.astype(x.dtype)


def layer_norm_backward_affine(dy, x, mean, rstd):
    """dweight[j] = sum_r dy[r, j] * xhat[r, j];  dbias[j] = sum_r dy[r, j].

    dy, x: (R, D); mean, rstd: (R,). Returns (dweight (D,), dbias (D,)).
    """
    dy64 = dy.astype(np.float64)
    xhat = (x.astype(np.float64) - mean[:, None]) * rstd[:, None]
    return (dy64 * xhat).sum(axis=0).astype(x.dtype), dy64.sum(axis=0).astype(x.dtype)


# ----------------------------------------------------------------------- group norm


def group_norm_forward(x, weight, bias, G, eps):
    """Normalize each (n, group) over its CG * S values, then scale and shift per channel:

        y[n, c, s] = (x[n, c, s] - mean[n, g]) * rstd[n, g] * weight[c] + bias[c],
        g = c // CG.

    x: (N, C, S) with C divisible by G; weight, bias: (C,) or None.
    Returns (y (N, C, S), mean (N, G), rstd (N, G)).
    """
    N, C, S = x.shape
    grouped = x.astype(np.float64).reshape(N, G, (C // G) * S)
    mean = grouped.mean(axis=2)
    centered = grouped - mean[:, :, None]
    var = (centered * centered).mean(axis=2)
    rstd = 1.0 / np.sqrt(var + eps)
    y = (centered * rstd[:, :, None]).reshape(N, C, S)
    if weight is not None:
        y = y * weight[None, :, None]
    if bias is not None:
        y = y + bias[None, :, None]
    return y.astype(x.dtype), mean.astype(x.dtype), rstd.astype(x.dtype)


def group_norm_backward_reduce(dy, x, mean, rstd, G):
    """Per (n, c) sums over s, with xhat from the group statistics of (n, c // CG):

        sum_dy[n, c] = sum_s dy[n, c, s],   sum_dy_xhat[n, c] = sum_s dy[n, c, s] * xhat[n, c, s].

    dy, x: (N, C, S); mean, rstd: (N, G). Returns (sum_dy (N, C), sum_dy_xhat (N, C)).
    Summed over n they are the bias and weight gradients; weighted by ``weight`` and
    summed over a group they give the two means of the input gradient.
    """
    xhat = _group_xhat(x, mean, rstd, G)
    dy64 = dy.astype(np.float64)
    return dy64.sum(axis=2).astype(x.dtype), (dy64 * xhat).sum(axis=2).astype(x.dtype)


def group_norm_backward_input(dy, x, mean, rstd, weight, sum_dy, sum_dy_xhat, G):
    """dx[n, c, s] = rstd[n, g] * (weight[c] dy[n, c, s] - a[n, g] - xhat[n, c, s] b[n, g])

    with the means over the group's M = CG * S values of g = dy * weight[c]:
        a[n, g] = sum_{c in g} weight[c] sum_dy[n, c] / M
        b[n, g] = sum_{c in g} weight[c] sum_dy_xhat[n, c] / M.
    dy, x: (N, C, S); mean, rstd: (N, G); weight: (C,) or None; sums: (N, C).
    Returns dx (N, C, S).
    """
    N, C, S = x.shape
    CG = C // G
    w = np.ones(C) if weight is None else weight.astype(np.float64)
    a = (w * sum_dy).reshape(N, G, CG).sum(axis=2) / (CG * S)
    b = (w * sum_dy_xhat).reshape(N, G, CG).sum(axis=2) / (CG * S)
    xhat = _group_xhat(x, mean, rstd, G)
    dx = _per_channel(rstd, CG) * (
        w[None, :, None] * dy - _per_channel(a, CG) - xhat * _per_channel(b, CG)
    )
    return dx.astype(x.dtype)


def _per_channel(values, CG):
    """(N, G) group values repeated for each of a group's CG channels: (N, C, 1)."""
    return np.repeat(values.astype(np.float64), CG, axis=1)[:, :, None]


def _group_xhat(x, mean, rstd, G):
    N, C, S = x.shape
    grouped = x.astype(np.float64).reshape(N, G, (C // G) * S)
    xhat = (grouped - mean[:, :, None]) * rstd[:, :, None]
    return xhat.reshape(N, C, S)


# ----------------------------------------------------------------------- batch norm
# Batch norm's forward (per-channel sums, then y = x * scale[c] + shift[c]) uses the
# ``channel`` family (kernels/*/channel), shared with other per-channel ops; its
# backward kernels are here.


def batch_norm_backward_reduce(dy, x, mean, invstd):
    """Per-channel sums over n and s:

        sum_dy[c] = sum dy[:, c, :],   sum_dy_xhat[c] = sum dy[:, c, :] * xhat[:, c, :],
        xhat = (x - mean[c]) * invstd[c].

    dy, x: (N, C, S); mean, invstd: (C,) (batch statistics in training, running
    statistics in eval). Returns (sum_dy (C,), sum_dy_xhat (C,)): the bias and weight
    gradients, and the two means of the input gradient (divided by N * S).
    """
    dy64 = dy.astype(np.float64)
    xhat = (x.astype(np.float64) - mean[None, :, None]) * invstd[None, :, None]
    return dy64.sum(axis=(0, 2)).astype(x.dtype), (dy64 * xhat).sum(axis=(0, 2)).astype(x.dtype)


def batch_norm_backward_input(dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat):
    """Input gradient of training-mode batch norm (statistics of the batch), M = N * S:

        dx[n, c, s] = weight[c] * invstd[c] * (dy - sum_dy[c] / M - xhat * sum_dy_xhat[c] / M).

    dy, x: (N, C, S); mean, invstd, sum_dy, sum_dy_xhat: (C,); weight (C,) or None.
    Returns dx (N, C, S).
    """
    N, C, S = x.shape
    M = N * S
    w = np.ones(C) if weight is None else weight.astype(np.float64)
    xhat = (x.astype(np.float64) - _column(mean)) * _column(invstd)
    dx = _column(w * invstd) * (dy - _column(sum_dy) / M - xhat * _column(sum_dy_xhat) / M)
    return dx.astype(x.dtype)


def _column(values):
    """(C,) per-channel values as (1, C, 1), to broadcast against (N, C, S)."""
    return values.astype(np.float64)[None, :, None]


# ------------------------------------------------------------- local response norm


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
