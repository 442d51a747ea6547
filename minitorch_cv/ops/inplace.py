"""In-place arithmetic and fills: ``x += y``, ``x.mul_(y)``, ``x.fill_(v)``, ``x.copy_(y)``.

Each op writes into x's own array, calls ``ctx.mark_dirty(x)`` and returns x, so that
``Function.apply`` gives back the same Tensor with its version bumped. While gradients
are recorded, x's history moves onto the op (the gradient flows through it into
whatever produced x before), with PyTorch's rules (``check_inplace``):

- a leaf that requires grad may only be changed under ``no_grad()`` (what every
  hand-written SGD step does: ``p -= lr * p.grad``);
- a non-leaf is changed and the change is recorded;
- a view of another tensor cannot be changed while recording (PyTorch rebuilds the
  base's history through the view; minitorch_cv refuses instead of getting it wrong).

Gradients, for out = x (op) y with y broadcast to x's shape:

    x += a*y   d/dx = 1                  d/dy = a          (summed back to y's shape)
    x *= y     d/dx = y                  d/dy = x_before   (a copy kept only if y needs it,
                                                        as PyTorch keeps "original self")
    x /= y     d/dx = 1/y                d/dy = -x_before / y^2
    fill/copy  d/dx = 0                  d/d(source) = 1
"""
import numpy as np

from .. import dtypes
from ..autograd import Function, is_grad_enabled
from ..devices import namespace
from ..tensor import Tensor
from ._util import is_scalar, python_scalar, unbroadcast


def check_inplace(name, tensor, *operands):
    """Raise before ``name`` writes into ``tensor`` if PyTorch would refuse it."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")
    if not getattr(tensor.array.flags, "writeable", True):  # e.g. an expand()ed tensor
        raise RuntimeError(
            f"{name}: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location. Please clone() the tensor before performing "
            "the operation."
        )
    if not is_grad_enabled():
        return
    if tensor.is_leaf and tensor.requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    base = tensor._base
    if base is None:
        return
    operand_grad = any(isinstance(o, Tensor) and o.requires_grad for o in operands)
    if tensor.requires_grad or base.requires_grad or operand_grad:
        if base.is_leaf and base.requires_grad:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
        raise RuntimeError(
            f"{name}: in-place operation on a view of another tensor while gradients are "
            "recorded; minitorch_cv does not rewrite the viewed tensor's history as "
            "PyTorch does. Use the out-of-place operation, or apply it to a .clone() of "
            "the view."
        )


def _operand(name, tensor, other):
    """``other`` as something that can be written into ``tensor``: a Python number, or
    a Tensor on its device that broadcasts to its shape, converted to its dtype
    (differentiably) when PyTorch's casting rule allows it."""
    if is_scalar(other):
        value = python_scalar(other)
        if isinstance(value, float) and not dtypes.is_floating(tensor.dtype):
            raise RuntimeError(
                f"{name}: result type Float can't be cast to the desired output type "
                f"{tensor.dtype}"
            )
        return value
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}: expected a Tensor or a number, got {type(other).__name__}")
    if other.device != tensor.device:
        raise RuntimeError(
            f"{name}: expected both tensors on the same device, got {tensor.device} and "
            f"{other.device}"
        )
    try:
        shape = np.broadcast_shapes(other.shape, tensor.shape)
    except ValueError:
        shape = None
    if shape != tensor.shape:
        raise RuntimeError(
            f"{name}: output with shape {tensor.shape} doesn't match the broadcast shape "
            f"{shape if shape is not None else (tensor.shape, other.shape)}"
        )
    if other.dtype != tensor.dtype:
        if not np.can_cast(other.dtype, tensor.dtype, casting="same_kind"):
            raise RuntimeError(
                f"{name}: result type {other.dtype} can't be cast to the desired output "
                f"type {tensor.dtype}"
            )
        other = other.to(tensor.dtype)
    return other


class AddInplace(Function):
    @staticmethod
    def forward(ctx, x, other, alpha):
        ctx.other_shape, ctx.alpha = np.shape(other), alpha
        x += other if alpha == 1 else alpha * other
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad_other = None
        if ctx.needs_input_grad[1]:
            grad_other = unbroadcast(grad if ctx.alpha == 1 else grad * ctx.alpha, ctx.other_shape)
        return grad, grad_other, None


class MulInplace(Function):
    @staticmethod
    def forward(ctx, x, other):
        other = _unaliased(x, other)
        before = x.copy() if ctx.needs_input_grad[1] else None
        ctx.save_for_backward(before, other)
        x *= other
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        before, other = ctx.saved_tensors
        grad_other = unbroadcast(grad * before, np.shape(other)) if ctx.needs_input_grad[1] else None
        return grad * other, grad_other


class DivInplace(Function):
    @staticmethod
    def forward(ctx, x, other):
        other = _unaliased(x, other)
        before = x.copy() if ctx.needs_input_grad[1] else None
        ctx.save_for_backward(before, other)
        x /= other
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        before, other = ctx.saved_tensors
        grad_other = None
        if ctx.needs_input_grad[1]:
            grad_other = unbroadcast(-grad * before / (other * other), np.shape(other))
        return grad / other, grad_other


class Fill(Function):
    """x[...] = source (a number, or an array broadcast to x's shape, e.g. a copy_
    source or random draws): the old values of x get no gradient."""

    @staticmethod
    def forward(ctx, x, source):
        ctx.source_shape = np.shape(source)
        x[...] = source
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad_source = unbroadcast(grad, ctx.source_shape) if ctx.needs_input_grad[1] else None
        return namespace(grad).zeros_like(grad), grad_source


def store_result(ctx, x, result, inplace):
    """An op's output when it has an ``inplace`` flag: ``result`` itself, or x's own
    array, overwritten with result (unless result already is x) and marked dirty, so
    that ``apply`` returns the input Tensor."""
    if not inplace:
        return result
    if result is not x:
        x[...] = result
    ctx.mark_dirty(x)
    return x


def _unaliased(x, other):
    """``other``, copied if it shares memory with x (``x *= x``): the saved operand
    must keep the values it had before x is overwritten."""
    if hasattr(other, "shape") and namespace(x).may_share_memory(x, other):
        return other.copy()
    return other


# ------------------------------------------------------------------ wrappers
def add_(input, other, alpha=1):  # noqa: A002 - PyTorch's argument name
    check_inplace("add_", input, other)
    return AddInplace.apply(input, _operand("add_", input, other), alpha)


def sub_(input, other, alpha=1):  # noqa: A002
    check_inplace("sub_", input, other)
    return AddInplace.apply(input, _operand("sub_", input, other), -alpha)


def mul_(input, other):  # noqa: A002
    check_inplace("mul_", input, other)
    return MulInplace.apply(input, _operand("mul_", input, other))


def div_(input, other):  # noqa: A002
    check_inplace("div_", input, other)
    if not dtypes.is_floating(input.dtype):
        raise RuntimeError(
            f"div_: result type Float can't be cast to the desired output type {input.dtype}"
        )
    return DivInplace.apply(input, _operand("div_", input, other))


def fill_(input, value):  # noqa: A002
    """Every element set to ``value`` (a number or a 0-d tensor)."""
    check_inplace("fill_", input, value)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with "
            f"{value.ndim} dimensions."
        )
    return Fill.apply(input, _operand("fill_", input, value))


def copy_(input, src):  # noqa: A002
    """The values of ``src`` (a Tensor or an array, broadcast to input's shape,
    converted to its dtype and device) written into ``input``."""
    check_inplace("copy_", input, src)
    if not isinstance(src, Tensor):
        src = Tensor(namespace(input.array).asarray(src))
    if src.device != input.device:
        src = src.to(input.device)
    if src.dtype != input.dtype:
        src = src.to(input.dtype)  # copy_ casts any dtype, as in PyTorch
    return Fill.apply(input, _operand("copy_", input, src))


def fill_with_draws_(name, input, values):  # noqa: A002
    """Overwrite ``input`` with an array of random draws (normal_, uniform_, ...)."""
    check_inplace(name, input)
    return Fill.apply(input, values)
