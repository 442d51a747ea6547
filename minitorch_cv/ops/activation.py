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
"""
import math

from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from .special import erf


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        out = namespace(x).maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


class Hardtanh(Function):
    """clamp(x, low, high) with a zero gradient at the bounds (relu6 = hardtanh(0, 6))."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return namespace(x).clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x > ctx.low) & (x < ctx.high)), None, None


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return namespace(x).where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return namespace(x).where(x > 0, grad, grad * ctx.slope), None


class ELU(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        xp = namespace(x)
        out = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        ctx.save_for_backward(x, out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        # For x <= 0: d/dx alpha (e^x - 1) = alpha e^x = out + alpha
        return namespace(x).where(x > 0, grad, grad * (out + ctx.alpha)), None


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
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s * (1 + x * (1 - s)))


class Hardswish(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * namespace(x).clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = namespace(x)
        # 0 below -3, 1 above 3, (2x + 3) / 6 in between (PyTorch's boundary choice)
        middle = (2 * x + 3) / 6
        slope = xp.where(x < -3, 0, xp.where(x <= 3, middle, 1)).astype(x.dtype, copy=False)
        return grad * slope


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


def _sigmoid(x):
    xp = namespace(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _check(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")


def relu(input):  # noqa: A002 - PyTorch's argument name
    _check("relu", input)
    return ReLU.apply(input)


def hardtanh(input, min_val=-1.0, max_val=1.0):  # noqa: A002
    _check("hardtanh", input)
    if min_val >= max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must be below max_val ({max_val})")
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input):  # noqa: A002
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01):  # noqa: A002
    _check("leaky_relu", input)
    return LeakyReLU.apply(input, negative_slope)


def elu(input, alpha=1.0):  # noqa: A002
    _check("elu", input)
    return ELU.apply(input, alpha)


def gelu(input, approximate="none"):  # noqa: A002
    _check("gelu", input)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate)


def silu(input):  # noqa: A002
    _check("silu", input)
    return SiLU.apply(input)


def hardswish(input):  # noqa: A002
    _check("hardswish", input)
    return Hardswish.apply(input)


def hardsigmoid(input):  # noqa: A002
    _check("hardsigmoid", input)
    return Hardsigmoid.apply(input)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    _check("softplus", input)
    return Softplus.apply(input, beta, threshold)
