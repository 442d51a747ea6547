"""+ - * / ** and unary minus, with broadcasting.

Either operand may be a Python number (``x * 2``, ``1 - x``): it enters forward as a
number and receives no gradient. Gradients of broadcast operands are summed back to
the operand's shape by ``unbroadcast``.
"""
import math

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..devices import namespace
from ._util import binary_operands, is_scalar, unbroadcast


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return a + b

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        return unbroadcast(grad, a_shape), unbroadcast(grad, b_shape)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return a - b

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        return unbroadcast(grad, a_shape), unbroadcast(-grad, b_shape)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = unbroadcast(grad * b, np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * a, np.shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # d(a/b)/da = 1/b,  d(a/b)/db = -a/b^2
        grad_a = unbroadcast(grad / b, np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = (
            unbroadcast(-grad * a / (b * b), np.shape(b)) if ctx.needs_input_grad[1] else None
        )
        return grad_a, grad_b


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """``a ** b`` where either side may be a number."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            # d(a^b)/da = b * a^(b-1)
            grad_a = unbroadcast(grad * b * a ** (b - 1), np.shape(a))
        if ctx.needs_input_grad[1]:
            # d(a^b)/db = a^b * ln(a)
            log_a = math.log(a) if is_scalar(a) else namespace(a).log(a)
            grad_b = unbroadcast(grad * out * log_a, np.shape(b))
        return grad_a, grad_b


def add(input, other, alpha=1):  # noqa: A002 - PyTorch's argument name
    if alpha != 1:
        other = mul(other, alpha)
    return Add.apply(*binary_operands("add", input, other))


def sub(input, other, alpha=1):  # noqa: A002
    if alpha != 1:
        other = mul(other, alpha)
    return Sub.apply(*binary_operands("sub", input, other))


def mul(input, other):  # noqa: A002
    return Mul.apply(*binary_operands("mul", input, other))


def div(input, other):  # noqa: A002
    a, b = binary_operands("div", input, other)
    # Integer / integer is true division producing the default float, as in PyTorch.
    a, b = _promote_integer_division(a, b)
    return Div.apply(a, b)


def neg(input):  # noqa: A002
    return Neg.apply(input)


def power(input, exponent):  # noqa: A002 - PyTorch's name
    return Pow.apply(*binary_operands("pow", input, exponent))


def _promote_integer_division(a, b):
    from ..tensor import Tensor

    tensors = [t for t in (a, b) if isinstance(t, Tensor)]
    if all(not dtypes.is_floating(t.dtype) for t in tensors):
        a = a.to(dtypes.DEFAULT_FLOAT) if isinstance(a, Tensor) else float(a)
        b = b.to(dtypes.DEFAULT_FLOAT) if isinstance(b, Tensor) else float(b)
    return a, b
