"""Group normalization kernels in plain NumPy: the specification of the ``group_norm`` family.

Every implementation (``kernels/cpu/group_norm.py``, ``kernels/cuda/group_norm.py``)
exports these names with these signatures and is tested against this file.

Layout: x (N, C, S), C-contiguous, S = H*W (or L, or 1) the product of the spatial dims.
The C channels are split into G groups of CG = C / G consecutive channels; the CG * S
values of group (n, g) are contiguous. ``xhat`` is the normalized input:

    xhat = (x - mean[n, g]) * rstd[n, g],        rstd = 1 / sqrt(var + eps)

with mean and the BIASED variance over each (n, group), two-pass, in float64; arrays are
returned in the input dtype.

Backward of a normalization over a set of M values, with g = dy * weight the gradient
reaching xhat:

    dx = rstd * (g - mean(g) - xhat * mean(g * xhat))

(the two means remove the components along the directions that normalization
projects out: a shift of x, and a scaling of x about its mean).
"""
import numpy as np


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


def _input_gradient_coefficients(mean, rstd, weight, sum_dy, sum_dy_xhat, G, S):
    """``group_norm_backward_input`` folded per (n, c) into dx = A dy - B (x - m) - K:
    m = mean[n, g], A = rstd[n, g] weight[c], B = rstd^2 b[n, g], K = rstd a[n, g], with
    a, b the group means above. Returns (m, A, B, K), each (N, C), in float64 (m in the
    input dtype) and the inputs' array module: what the Numba and CUDA forms evaluate."""
    N, C = sum_dy.shape
    CG = C // G
    w = 1.0 if weight is None else weight.astype(np.float64)
    a = (w * sum_dy.astype(np.float64)).reshape(N, G, CG).sum(axis=2) / (CG * S)
    b = (w * sum_dy_xhat.astype(np.float64)).reshape(N, G, CG).sum(axis=2) / (CG * S)
    r = rstd.astype(np.float64)
    A = r.repeat(CG, axis=1) * w
    return mean.repeat(CG, axis=1), A, (r * r * b).repeat(CG, axis=1), (r * a).repeat(CG, axis=1)


def _per_channel(values, CG):
    """(N, G) group values repeated for each of a group's CG channels: (N, C, 1)."""
    return np.repeat(values.astype(np.float64), CG, axis=1)[:, :, None]


def _group_xhat(x, mean, rstd, G):
    N, C, S = x.shape
    grouped = x.astype(np.float64).reshape(N, G, (C // G) * S)
    xhat = (grouped - mean[:, :, None]) * rstd[:, :, None]
    return xhat.reshape(N, C, S)
