"""Local response normalization across channels (AlexNet, 2012), PyTorch's definition:

    y[n, c, ...] = x[n, c, ...] / (k + alpha / size * sum_{j in W(c)} x[n, j, ...]^2) ^ beta

with the window W(c) = [c - size // 2, c + (size - 1) // 2] clipped to the channels
(PyTorch zero-pads size // 2 channels before and (size - 1) // 2 after, then averages
over ``size`` channels, so alpha is divided by ``size`` even at the borders). AlexNet's
paper writes the same thing with alpha not divided by n: pass alpha * size to match it.

The backward (kernels/reference/local_response_norm.py derives it) is

    dx[j] = dy[j] scale[j]^-beta - 2 alpha beta / size * x[j] * sum_{c: j in W(c)} dy[c] y[c] / scale[c]

with scale = k + alpha / size * sum x^2 saved by the forward.
"""
import math

from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array, namespace


class LocalResponseNorm(Function):
    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        N, C = x.shape[:2]
        S = math.prod(x.shape[2:])
        channels = namespace(x).ascontiguousarray(x).reshape(N, C, S)
        kernels = backend.LOCAL_RESPONSE_NORM.on(device_of_array(x))
        y, scale = kernels.lrn_forward(channels, size, alpha, beta, k)
        ctx.save_for_backward(channels, y, scale)
        ctx.shape, ctx.size, ctx.alpha, ctx.beta = x.shape, size, alpha, beta
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        channels, y, scale = ctx.saved_tensors
        dy = namespace(grad).ascontiguousarray(grad).reshape(channels.shape)
        kernels = backend.LOCAL_RESPONSE_NORM.on(device_of_array(channels))
        dx = kernels.lrn_backward(dy, channels, y, scale, ctx.size, ctx.alpha, ctx.beta)
        return dx.reshape(ctx.shape), None, None, None, None


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):  # noqa: A002
    """PyTorch's ``F.local_response_norm``: input (N, C, *) with at least 3 dims."""
    checks.float_tensor("local_response_norm", "input", input)
    checks.min_ndim("local_response_norm", input, 3, "a tensor of shape (N, C, *) with at least 3 dims")
    size = checks.integer("local_response_norm", "size", size)
    if size <= 0:
        raise ValueError(f"local_response_norm: size: expected a number of channels > 0, got {size}")
    alpha = checks.number("local_response_norm", "alpha", alpha)
    beta = checks.number("local_response_norm", "beta", beta)
    k = checks.number("local_response_norm", "k", k)
    return LocalResponseNorm.apply(input, size, alpha, beta, k)
