"""Elementwise math: exp, log, sqrt, abs, clamp, tanh, sigmoid, where, maximum, minimum.

Each backward multiplies the incoming gradient by the local derivative, written in
terms of what forward already computed where that is cheaper (d exp = exp).
"""
import numpy as np

from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import binary_operands, unbroadcast


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = namespace(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return namespace(x).log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        out = namespace(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return namespace(x).abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * namespace(x).sign(x)  # 0 at x == 0, as in PyTorch


class Clamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return namespace(x).clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # The gradient passes where x lies inside [low, high], bounds included.
        inside = namespace(x).ones(x.shape, dtype=bool)
        if ctx.low is not None:
            inside &= x >= ctx.low
        if ctx.high is not None:
            inside &= x <= ctx.high
        return grad * inside, None, None


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = namespace(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xp = namespace(x)
        # 1 / (1 + e^-x) overflows e^-x for very negative x; this form never does.
        e = xp.exp(-xp.abs(x))
        out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Where(Function):
    """``where(condition, a, b)``: a where condition holds, else b (broadcast)."""

    @staticmethod
    def forward(ctx, condition, a, b):
        xp = namespace(condition)
        ctx.save_for_backward(condition)
        ctx.shapes = (np.shape(a), np.shape(b))
        return xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        zero = grad.dtype.type(0)
        grad_a = unbroadcast(namespace(grad).where(condition, grad, zero), a_shape)
        grad_b = unbroadcast(namespace(grad).where(condition, zero, grad), b_shape)
        return None, grad_a, grad_b


class Extreme(Function):
    """Elementwise maximum/minimum. Where the two are equal the gradient is split
    in half between them, as PyTorch does."""

    @staticmethod
    def forward(ctx, a, b, largest):
        xp = namespace(a if hasattr(a, "dtype") else b)
        ctx.save_for_backward(a, b)
        ctx.largest = largest
        return xp.maximum(a, b) if largest else xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        xp = namespace(grad)
        a_wins = (a > b) if ctx.largest else (a < b)
        share = xp.where(a == b, 0.5, a_wins.astype(grad.dtype))  # a's share of grad
        grad_a = unbroadcast(grad * share, np.shape(a))
        grad_b = unbroadcast(grad * (1 - share), np.shape(b))
        return grad_a, grad_b, None


def _check(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")


def exp(input):  # noqa: A002 - PyTorch's argument name
    _check("exp", input)
    return Exp.apply(input)


def log(input):  # noqa: A002
    _check("log", input)
    return Log.apply(input)


def sqrt(input):  # noqa: A002
    _check("sqrt", input)
    return Sqrt.apply(input)


def absolute(input):  # noqa: A002
    _check("abs", input)
    return Abs.apply(input)


def clamp(input, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    _check("clamp", input)
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(input, min, max)


def tanh(input):  # noqa: A002
    _check("tanh", input)
    return Tanh.apply(input)


def sigmoid(input):  # noqa: A002
    _check("sigmoid", input)
    return Sigmoid.apply(input)


def where(condition, input, other):  # noqa: A002
    if not isinstance(condition, Tensor) or condition.dtype.kind != "b":
        raise TypeError("where: condition must be a bool Tensor")
    a, b = binary_operands("where", input, other)
    if isinstance(a, Tensor) and a.device != condition.device:
        raise RuntimeError(
            f"where: condition is on {condition.device} but input is on {a.device}"
        )
    return Where.apply(condition, a, b)


def maximum(input, other):  # noqa: A002
    return Extreme.apply(*binary_operands("maximum", input, other), True)


def minimum(input, other):  # noqa: A002
    return Extreme.apply(*binary_operands("minimum", input, other), False)
