"""Activation functions with PyTorch's definitions and conventions at the kinks
(the gradient of relu at 0 is 0, of relu6 at 0 and 6 is 0, as in PyTorch).

    relu(x)       = max(x, 0)
    relu6(x)      = min(max(x, 0), 6)
    leaky_relu(x) = x if x > 0 else slope * x
    elu(x)        = x if x > 0 else alpha * (e^x - 1)
    gelu(x)       = x * Phi(x)                      (Phi: standard normal CDF)
                  ~ 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   approximate="tanh"
    silu(x)       = x * sigmoid(x)
    hardsigmoid(x)= relu6(x + 3) / 6
    hardswish(x)  = x * relu6(x + 3) / 6
    softplus(x)   = log(1 + e^(beta x)) / beta      (x itself where beta x > threshold)
    prelu(x, w)   = x if x > 0 else w[c] * x       (w per channel c = dim 1, or one w)

``inplace=True`` (relu, relu6, hardtanh, leaky_relu, elu, silu, hardswish) writes the
result into the input's own array and returns the input tensor, with PyTorch's rules
(ops/inplace.py). Their backwards read only what survives that overwrite: the output
(relu, hardtanh: the gradient mask is 0 < out < 6 exactly where 0 < x < 6; leaky_relu
and elu with a slope or alpha >= 0: out > 0 exactly where x > 0), or arrays computed
before it (silu keeps sigmoid(x): its derivative is s + out (1 - s); hardswish keeps
its slope). So the tensor kept for backward is the input's own memory, as in PyTorch.
"""
import math

import numpy as np

from .. import backend, dtypes
from ..autograd import Function, is_grad_enabled
from ..devices import device_of_array, namespace
from ..tensor import Tensor
from .inplace import check_inplace, store_result
from .special import erf


class ReLU(Function):
    @staticmethod
    def forward(ctx, x, inplace):
        kernels = _relu_kernels(x)
        result = kernels.relu(x) if kernels else namespace(x).maximum(x, 0)
        out = store_result(ctx, x, result, inplace)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        kernels = _relu_kernels(grad)
        return (kernels.relu_backward(grad, out) if kernels else grad * (out > 0)), None


def _relu_kernels(array):
    """The ``activation`` kernel family for float32/float64 arrays (one parallel pass
    each way: ReLU follows almost every convolution), None for other dtypes (NumPy).
    With ``inplace=True`` the kernel's result is copied into x by ``store_result`` (a
    second pass; the family has no ``out=`` argument yet)."""
    if array.dtype not in (np.float32, np.float64):
        return None
    return backend.ACTIVATION.on(device_of_array(array))


class Hardtanh(Function):
    """clamp(x, low, high) with a zero gradient at the bounds (relu6 = hardtanh(0, 6))."""

    @staticmethod
    def forward(ctx, x, low, high, inplace):
        out = store_result(ctx, x, namespace(x).clip(x, low, high), inplace)
        ctx.save_for_backward(out)
        ctx.low, ctx.high = low, high
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * ((out > ctx.low) & (out < ctx.high)), None, None, None


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, slope, inplace):
        # With a negative slope, out > 0 also where x < 0: keep x (out of place only).
        sign_source = x if slope < 0 else None
        out = store_result(ctx, x, namespace(x).where(x > 0, x, x * slope), inplace)
        ctx.save_for_backward(out if sign_source is None else sign_source)
        ctx.slope = slope
        return out

    @staticmethod
    def backward(ctx, grad):
        (sign_source,) = ctx.saved_tensors
        return namespace(grad).where(sign_source > 0, grad, grad * ctx.slope), None, None


class ELU(Function):
    @staticmethod
    def forward(ctx, x, alpha, inplace):
        xp = namespace(x)
        x_if_needed = x if alpha < 0 else None  # as in LeakyReLU: out > 0 also where x < 0
        out = store_result(ctx, x, xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0))), inplace)
        ctx.save_for_backward(out, x_if_needed)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        out, x = ctx.saved_tensors
        positive = (out > 0) if x is None else (x > 0)
        # For x <= 0: d/dx alpha (e^x - 1) = alpha e^x = out + alpha
        return namespace(grad).where(positive, grad, grad * (out + ctx.alpha)), None, None


class GELU(Function):
    @staticmethod
    def forward(ctx, x, approximate):
        xp = namespace(x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + xp.tanh(inner))
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = namespace(x)
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = xp.tanh(k * (x + 0.044715 * x**3))
            dinner = k * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner), None
        cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad * (cdf + x * pdf), None


class SiLU(Function):
    @staticmethod
    def forward(ctx, x, inplace):
        s = _sigmoid(x)
        out = store_result(ctx, x, x * s, inplace)
        ctx.save_for_backward(out, s)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, s = ctx.saved_tensors
        # d/dx x s = s + x s (1 - s) = s + out (1 - s)
        return grad * (s + out * (1 - s)), None


class Hardswish(Function):
    @staticmethod
    def forward(ctx, x, inplace):
        xp = namespace(x)
        # 0 below -3, 1 above 3, (2x + 3) / 6 in between (PyTorch's boundary choice)
        middle = (2 * x + 3) / 6
        slope = xp.where(x < -3, 0, xp.where(x <= 3, middle, 1)).astype(x.dtype, copy=False)
        ctx.save_for_backward(slope)
        return store_result(ctx, x, x * xp.clip(x + 3, 0, 6) / 6, inplace)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return grad * slope, None


class Hardsigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return namespace(x).clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x > -3) & (x < 3)) / 6


class Softplus(Function):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = namespace(x)
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = beta * x
        # log(1 + e^bx) = max(bx, 0) + log1p(e^-|bx|) never overflows
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(bx > threshold, x, soft)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        bx = ctx.beta * x
        return namespace(x).where(bx > ctx.threshold, grad, grad * _sigmoid(bx)), None, None


class PReLU(Function):
    """out = x where x > 0, else w x, with w broadcast along the channel dim:
    d/dx = 1 or w; d/dw = sum over everything but the channel of g x where x <= 0."""

    @staticmethod
    def forward(ctx, x, weight):
        w = _channel_view(weight, x.ndim)
        ctx.save_for_backward(x, weight)
        return namespace(x).where(x > 0, x, w * x)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        xp = namespace(x)
        positive = x > 0
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = xp.where(positive, grad, grad * _channel_view(weight, x.ndim))
        if ctx.needs_input_grad[1]:
            per_element = xp.where(positive, 0, grad * x)
            dims = tuple(d for d in range(x.ndim) if not (d == 1 and weight.size > 1))
            grad_w = per_element.sum(axis=dims).reshape(weight.shape).astype(weight.dtype)
        return grad_x, grad_w


def _channel_view(weight, ndim):
    """The (C,) or (1,) weight shaped to broadcast along dim 1 of an ndim-D input."""
    if weight.size == 1 or ndim < 2:
        return weight.reshape(())
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


def _sigmoid(x):
    xp = namespace(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _check(name, x, inplace=False):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
    if inplace:
        check_inplace(name + "_", x)


def _refuse_negative_slope_in_place(name, slope, x, inplace):
    """PyTorch's error: with a negative slope the in-place backward cannot tell the sign
    of x from the output it keeps."""
    if inplace and slope < 0 and x.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"In-place {name} backward calculation is triggered with a negative slope which "
            "is not supported. This is caused by calling in-place forward function with a "
            "negative slope, please call out-of-place version instead."
        )


def relu(input, inplace=False):  # noqa: A002 - PyTorch's argument name
    _check("relu", input, inplace)
    return ReLU.apply(input, inplace)


def relu_(input):  # noqa: A002
    return relu(input, inplace=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    _check("hardtanh", input, inplace)
    if min_val >= max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must be below max_val ({max_val})")
    return Hardtanh.apply(input, min_val, max_val, inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):  # noqa: A002
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):  # noqa: A002
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    _check("leaky_relu", input, inplace)
    _refuse_negative_slope_in_place("leakyReLu", negative_slope, input, inplace)
    return LeakyReLU.apply(input, negative_slope, inplace)


def leaky_relu_(input, negative_slope=0.01):  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    _check("elu", input, inplace)
    _refuse_negative_slope_in_place("elu", alpha, input, inplace)
    return ELU.apply(input, alpha, inplace)


def elu_(input, alpha=1.0):  # noqa: A002
    return elu(input, alpha, inplace=True)


def gelu(input, approximate="none"):  # noqa: A002
    _check("gelu", input)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate)


def silu(input, inplace=False):  # noqa: A002
    _check("silu", input, inplace)
    return SiLU.apply(input, inplace)


def hardswish(input, inplace=False):  # noqa: A002
    _check("hardswish", input, inplace)
    return Hardswish.apply(input, inplace)


def hardsigmoid(input):  # noqa: A002
    _check("hardsigmoid", input)
    return Hardsigmoid.apply(input)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    _check("softplus", input)
    return Softplus.apply(input, beta, threshold)


def prelu(input, weight):  # noqa: A002
    """x where x > 0, else weight * x; weight has 1 value or one per channel (dim 1)."""
    _check("prelu", input)
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
    if not dtypes.is_floating(input.dtype) or weight.dtype != input.dtype:
        raise TypeError(
            f"prelu: input and weight must share a floating dtype, got {input.dtype} and "
            f"{weight.dtype}"
        )
    if weight.device != input.device:
        raise RuntimeError(f"prelu: weight is on {weight.device} but input is on {input.device}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise ValueError(
            f"prelu: weight must hold 1 value or one per channel ({channels} for input "
            f"{input.shape}), got shape {weight.shape}"
        )
    return PReLU.apply(input, weight)
