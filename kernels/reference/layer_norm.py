"""Layer normalization kernels in plain NumPy: the specification of the ``layer_norm`` family.

Every implementation (``kernels/cpu/layer_norm.py``, ``kernels/cuda/layer_norm.py``)
exports these names with these signatures and is tested against this file.

Layout: x (R, D), C-contiguous: one row = the D values of the normalized dims of one
sample (the op reshapes to it). ``xhat`` is the normalized input:

    xhat = (x - mean) * rstd,        rstd = 1 / sqrt(var + eps)

with mean and the BIASED variance var = mean((x - mean)^2) over a row. The reference
computes in float64 and returns arrays of the input dtype; the variance is two-pass (the
mean first, then the mean of squared deviations), which avoids the cancellation of
E[x^2] - E[x]^2.

Backward of a normalization over a set of M values, with g = dy * weight the gradient
reaching xhat:

    dx = rstd * (g - mean(g) - xhat * mean(g * xhat))

(the two means remove the components along the directions that normalization
projects out: a shift of x, and a scaling of x about its mean).
"""
import numpy as np


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
