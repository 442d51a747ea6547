"""Elementwise math: exp, log, sqrt, abs, clamp, tanh, sigmoid, where, masked_fill,
maximum, minimum, and the step functions floor, ceil, round, sign.

Each backward multiplies the incoming gradient by the local derivative, written in
terms of what forward already computed where that is cheaper (d exp = exp). The step
functions are constant between their jumps: their gradient is 0, as in PyTorch.
"""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import binary_operands, is_scalar, python_scalar, unbroadcast
from .inplace import check_inplace, store_result


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
    def forward(ctx, x, low, high, inplace):
        xp = namespace(x)
        # The gradient passes where x lies inside [low, high], bounds included; the
        # mask is taken before an in-place clamp overwrites x.
        inside = xp.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        ctx.save_for_backward(inside)
        if inplace:
            xp.clip(x, low, high, out=x)
            ctx.mark_dirty(x)
            return x
        return xp.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None, None


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


class Step(Function):
    """floor, ceil, round or sign: piecewise constant, so the gradient is zero."""

    @staticmethod
    def forward(ctx, x, name, decimals):
        xp = namespace(x)
        if name == "round":
            # NumPy, like PyTorch, rounds half to even
            return xp.round(x, decimals) if decimals else xp.round(x)
        return getattr(xp, name)(x)

    @staticmethod
    def backward(ctx, grad):
        return namespace(grad).zeros_like(grad), None, None


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


class MaskedFill(Function):
    """out = value where mask, else x (mask broadcast to x's shape): the gradient of x
    is grad outside the mask, that of a 0-d tensor value the sum of grad inside it."""

    @staticmethod
    def forward(ctx, x, mask, value, inplace):
        xp = namespace(x)
        ctx.save_for_backward(mask)
        result = xp.where(mask, xp.asarray(value, dtype=x.dtype), x)
        return store_result(ctx, x, result, inplace)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        xp = namespace(grad)
        zero = grad.dtype.type(0)
        grad_value = None
        if ctx.needs_input_grad[2]:
            grad_value = xp.where(mask, grad, zero).sum().astype(grad.dtype).reshape(())
        return xp.where(mask, zero, grad), None, grad_value, None


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
    return Clamp.apply(input, min, max, False)


def clamp_(input, min=None, max=None):  # noqa: A002
    """``clamp`` written into input's own array."""
    check_inplace("clamp_", input)
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    return Clamp.apply(input, min, max, True)


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


def masked_fill(input, mask, value):  # noqa: A002
    """``value`` (a number or a 0-d tensor) where the bool ``mask`` is True."""
    return MaskedFill.apply(*_masked_fill_args("masked_fill", input, mask, value), False)


def masked_fill_(input, mask, value):  # noqa: A002
    input, mask, value = _masked_fill_args("masked_fill_", input, mask, value)
    check_inplace("masked_fill_", input, value)
    return MaskedFill.apply(input, mask, value, True)


def _masked_fill_args(name, input, mask, value):  # noqa: A002
    _check(name, input)
    if not isinstance(mask, Tensor) or mask.dtype.kind != "b":
        raise TypeError(f"{name}: mask must be a bool Tensor, got "
                        f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}")
    if mask.device != input.device:
        raise RuntimeError(f"{name}: mask is on {mask.device} but input is on {input.device}")
    try:
        broadcast = np.broadcast_shapes(mask.shape, input.shape)
    except ValueError:
        broadcast = None
    if broadcast != input.shape:
        raise RuntimeError(
            f"{name}: the shape of the mask {mask.shape} must be broadcastable to the input's "
            f"shape {input.shape}"
        )
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        if value.dtype != input.dtype:
            value = value.to(input.dtype)
    elif not is_scalar(value):
        raise TypeError(f"{name}: value must be a number or a 0-d Tensor, got {type(value).__name__}")
    else:
        value = python_scalar(value)
    return input, mask, value


def _step(name, input, decimals=0):  # noqa: A002
    _check(name, input)
    if name != "sign" and not dtypes.is_floating(input.dtype):
        return input.clone()  # integers are already whole numbers (PyTorch copies them)
    if name == "sign" and input.dtype == dtypes.bool_:
        return input.clone()
    return Step.apply(input, name, decimals)


def floor(input):  # noqa: A002
    return _step("floor", input)


def ceil(input):  # noqa: A002
    return _step("ceil", input)


def round_to_nearest(input, *, decimals=0):  # noqa: A002
    """PyTorch's ``round`` (exported under that name by the package): the nearest
    integer, halves to even (or to ``decimals`` decimal places)."""
    return _step("round", input, int(decimals))


def sign(input):  # noqa: A002
    """-1, 0 or 1."""
    return _step("sign", input)
