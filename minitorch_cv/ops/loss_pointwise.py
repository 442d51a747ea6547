"""Losses that compare input and target element by element, with PyTorch's formulas,
signatures and gradients (``reduction`` as in ops/loss.py: "none", "sum", "mean";
kl_div also "batchmean"):

    binary_cross_entropy  loss = -w (y log x + (1 - y) log(1 - x)), each log clamped
                          to >= -100 (so x = 0 or 1 gives a finite loss), x in [0, 1]
                          d/dx = w (x - y) / max(x (1 - x), 1e-12)
                          d/dy = w (log(1 - x) - log x)        (the clamped logs)
    smooth_l1_loss        d = x - y;  loss = d^2 / (2 beta) where |d| < beta, else
                          |d| - beta / 2  (beta = 0: |d|)
                          d/dx = d / beta where |d| < beta, else sign(d);  d/dy = -d/dx
    kl_div                x holds log-probabilities; target y probabilities
                          (log_target=True: log-probabilities t, y = e^t)
                          loss = y (log y - x)   with 0 log 0 = 0
                          d/dx = -y;   d/dy = log y + 1 - x   (log_target: y (t - x + 1))

The legacy ``size_average`` and ``reduce`` arguments map to ``reduction`` as in PyTorch.
"""
import warnings

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from .loss import REDUCTIONS, _reduce, _spread

_LOG_FLOOR = -100.0  # PyTorch clamps BCE's logs here
_BCE_EPSILON = 1e-12  # and its gradient's denominator here


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        xp = namespace(x)
        with _ignore_log_of_zero():
            log_x = xp.maximum(xp.log(x), _LOG_FLOOR)
            log_1mx = xp.maximum(xp.log1p(-x), _LOG_FLOOR)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight, log_x, log_1mx)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, log_x, log_1mx = ctx.saved_tensors
        xp = namespace(x)
        grad_loss = _spread(grad, x.shape, ctx.reduction)
        if weight is not None:
            grad_loss = grad_loss * weight
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_loss * (x - y) / xp.maximum(x * (1 - x), _BCE_EPSILON)
        if ctx.needs_input_grad[1]:
            grad_y = grad_loss * (log_1mx - log_x)
        return grad_x, grad_y, None, None


class SmoothL1(Function):
    @staticmethod
    def forward(ctx, x, y, beta, reduction):
        xp = namespace(x)
        d = x - y
        magnitude = xp.abs(d)
        if beta == 0:
            loss = magnitude
        else:
            loss = xp.where(magnitude < beta, 0.5 * d * d / beta, magnitude - 0.5 * beta)
        ctx.save_for_backward(d)
        ctx.beta, ctx.reduction = beta, reduction
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        xp = namespace(d)
        grad_loss = _spread(grad, d.shape, ctx.reduction)
        if ctx.beta == 0:
            slope = xp.sign(d)
        else:
            slope = xp.where(xp.abs(d) < ctx.beta, d / ctx.beta, xp.sign(d))
        grad_d = (grad_loss * slope).astype(d.dtype, copy=False)
        return (
            grad_d if ctx.needs_input_grad[0] else None,
            -grad_d if ctx.needs_input_grad[1] else None,
            None,
            None,
        )


class KLDiv(Function):
    @staticmethod
    def forward(ctx, x, y, reduction, log_target):
        xp = namespace(x)
        if log_target:
            loss = xp.exp(y) * (y - x)
        else:
            with _ignore_log_of_zero():
                y_log_y = xp.where(y > 0, y * xp.log(xp.where(y > 0, y, 1)), 0)
            loss = y_log_y - y * x
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.log_target = reduction, log_target
        if reduction == "batchmean":
            total = _reduce(loss, "sum")
            return total / x.dtype.type(x.shape[0]) if x.ndim else total
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        xp = namespace(x)
        if ctx.reduction == "batchmean":
            grad_loss = _spread(grad / (x.shape[0] if x.ndim else 1), x.shape, "sum")
        else:
            grad_loss = _spread(grad, x.shape, ctx.reduction)
        grad_x = grad_y = None
        probability = xp.exp(y) if ctx.log_target else y
        if ctx.needs_input_grad[0]:
            grad_x = -grad_loss * probability
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                grad_y = grad_loss * probability * (y - x + 1)
            else:
                with _ignore_log_of_zero():
                    grad_y = grad_loss * (xp.log(y) + 1 - x)
        return grad_x, grad_y, None, None


def _ignore_log_of_zero():
    """log(0) = -inf is expected here (and clamped or masked afterwards)."""
    return np.errstate(divide="ignore", invalid="ignore")


# ------------------------------------------------------------------ wrappers
def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's mapping of the deprecated size_average/reduce arguments."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction instead.",
        UserWarning,
        stacklevel=3,
    )
    if reduce is not None and not reduce:
        return "none"
    return "sum" if size_average is not None and not size_average else "mean"


def _check(name, input, target, reduction, allowed=REDUCTIONS):  # noqa: A002
    for arg, value in (("input", input), ("target", target)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {arg} must be a Tensor, got {type(value).__name__}")
    if not dtypes.is_floating(input.dtype) or target.dtype != input.dtype:
        raise TypeError(
            f"{name}: input and target must share a floating dtype, got {input.dtype} and "
            f"{target.dtype}"
        )
    if target.device != input.device:
        raise RuntimeError(f"{name}: target is on {target.device} but input is on {input.device}")
    if reduction not in allowed:
        raise ValueError(f"{name}: reduction must be one of {allowed}, got {reduction!r}")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` (in [0, 1]) against ``target``
    of the same shape; ``weight`` broadcasts to the input's shape."""
    name = "binary_cross_entropy"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check(name, input, target, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    values = input.array
    if values.size and (bool((values < 0).any()) or bool((values > 1).any())):
        raise RuntimeError(f"{name}: all elements of input should be between 0 and 1")
    if weight is not None:
        _check(name, input, weight, reduction)
        if weight.requires_grad:
            raise RuntimeError(f"{name}: not differentiable with respect to weight; pass weight.detach()")
        try:
            broadcast = np.broadcast_shapes(weight.shape, input.shape)
        except ValueError:
            broadcast = None
        if broadcast != input.shape:
            raise ValueError(
                f"{name}: weight of shape {weight.shape} must broadcast to the input shape "
                f"{input.shape}"
            )
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
                   beta=1.0):
    """Huber-like loss: quadratic below ``beta``, linear above (see the module docstring)."""
    name = "smooth_l1_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check(name, input, target, reduction)
    if beta < 0:
        raise RuntimeError(f"{name}: smooth_l1_loss does not support negative values for beta.")
    input, target = _broadcast_pair(name, input, target)
    return SmoothL1.apply(input, target, float(beta), reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
           log_target=False):
    """Kullback-Leibler divergence of ``target`` from the distribution whose
    log-probabilities are ``input``, element by element (see the module docstring)."""
    name = "kl_div"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check(name, input, target, reduction, REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
            stacklevel=2,
        )
    input, target = _broadcast_pair(name, input, target)
    return KLDiv.apply(input, target, reduction, bool(log_target))


def _broadcast_pair(name, input, target):  # noqa: A002
    """PyTorch broadcasts input and target (warning when their shapes differ)."""
    if input.shape == target.shape:
        return input, target
    try:
        shape = np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(
            f"{name}: target shape {target.shape} does not broadcast with input shape {input.shape}"
        ) from None
    warnings.warn(
        f"Using a target size ({target.shape}) that is different to the input size "
        f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
        "Please ensure they have the same size.",
        UserWarning,
        stacklevel=3,
    )
    return input.expand(*shape), target.expand(*shape)
