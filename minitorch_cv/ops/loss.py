"""Losses, with PyTorch's definitions, signatures and gradients.

Class dim 1 of an (N, C) or (N, C, d1, ..., dk) input (dim 0 of a (C,) input); the
target of class indices is int64 of shape (N, d1, ..., dk) (or () for a (C,) input).
Per element i with target t_i, weight w (all ones when None), eps = label_smoothing:

    cross_entropy  loss_i = (1 - eps) w[t_i] (lse_i - x_i[t_i])
                            + (eps / C) sum_c w[c] (lse_i - x_i[c])     lse = log-sum-exp
                   = (1 - eps) nll_i + eps smooth_i: one fused kernel call per pass
                   (kernels/*/softmax.py: forward gives loss and lse, backward gives
                   dx = g (softmax - one-hot), smoothed and weighted).
    nll_loss       loss_i = -w[t_i] x_i[t_i]          (x holds log-probabilities)
    mse_loss       loss_i = (x_i - y_i)^2
    binary_cross_entropy_with_logits
                   loss_i = w_i ((1 - y_i) x_i + (1 + (pw - 1) y_i) log(1 + e^-x_i)),
                   the stable form of -w (pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))).

A target equal to ``ignore_index`` contributes 0 loss and 0 gradient. ``reduction``:
"none" keeps loss_i, "sum" adds them, "mean" divides the sum by, for cross_entropy and
nll_loss with class indices, sum_i w[t_i] over the non-ignored i (PyTorch's weighted
mean, applied to both terms of the smoothed loss), else by the number of elements
(for class-probability targets: the number of samples N d1 ... dk). A mean over
nothing is NaN, as in PyTorch.
"""
import numbers
import warnings

import numpy as np

from .. import backend, dtypes
from ..autograd import Function, is_grad_enabled
from ..devices import device_of_array, namespace
from ..tensor import Tensor
from ._util import unbroadcast
from .softmax import from_rows, log_softmax, to_rows

REDUCTIONS = ("none", "mean", "sum")


# ------------------------------------------------------------------ reductions
def _reduce(loss, reduction):
    """The reduced loss as an array of loss's dtype (0-d for "sum" and "mean")."""
    if reduction == "none":
        return loss
    xp = namespace(loss)
    total = xp.asarray(loss.sum(), dtype=loss.dtype)
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore"):  # the mean of nothing is NaN, as in PyTorch
        return total / loss.dtype.type(loss.size) if loss.size else total * np.nan


def _spread(grad, shape, reduction, count=None):
    """The upstream gradient of each element's loss: the adjoint of ``_reduce``.

    "none": grad itself; "sum": grad everywhere; "mean": grad / count everywhere
    (count = the number of elements unless given, e.g. the weighted denominator).
    """
    xp = namespace(grad)
    if reduction == "none":
        return grad
    if reduction == "mean":
        count = int(np.prod(shape)) if count is None else count
        with np.errstate(invalid="ignore", divide="ignore"):
            grad = grad / count
    spread = xp.empty(shape, dtype=grad.dtype)
    spread[...] = grad
    return spread


def _target_weight(target, weight, ignore_index):
    """w[t_i] where t_i is a class, 0 where t_i == ignore_index (and the safe targets:
    ignore_index replaced by class 0, so that they can index)."""
    xp = namespace(target)
    valid = target != ignore_index
    safe_target = xp.where(valid, target, 0)
    return weight[safe_target] * valid, safe_target


# -------------------------------------------------------------- cross_entropy
class CrossEntropy(Function):
    """Class-index cross-entropy of (N, C, ...) logits through the fused kernels."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        kernels = backend.SOFTMAX.on(device_of_array(x))
        logits, ctx.moved_shape = to_rows(x, 1)  # (N d1 ... dk, C)
        flat_target = namespace(target).ascontiguousarray(target).reshape(-1)
        loss, lse = kernels.cross_entropy_forward(
            logits, flat_target, weight, ignore_index, label_smoothing
        )
        ctx.save_for_backward(logits, lse, flat_target, weight)
        ctx.ndim, ctx.target_shape = x.ndim, target.shape
        ctx.ignore_index, ctx.reduction, ctx.label_smoothing = ignore_index, reduction, label_smoothing
        if reduction == "mean":
            target_weight, _ = _target_weight(flat_target, weight, ignore_index)
            ctx.denominator = target_weight.sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                return loss.sum() / ctx.denominator
        return _reduce(loss.reshape(target.shape), reduction)

    @staticmethod
    def backward(ctx, grad):
        logits, lse, flat_target, weight = ctx.saved_tensors
        kernels = backend.SOFTMAX.on(device_of_array(logits))
        count = ctx.denominator if ctx.reduction == "mean" else None
        grad_loss = _spread(grad, ctx.target_shape, ctx.reduction, count).reshape(-1)
        dx = kernels.cross_entropy_backward(
            logits, lse, flat_target, weight, namespace(grad_loss).ascontiguousarray(grad_loss),
            ctx.ignore_index, ctx.label_smoothing,
        )
        return from_rows(dx, ctx.moved_shape, 1, ctx.ndim), None, None, None, None, None


def _cross_entropy_probabilities(x, target, weight, reduction, label_smoothing):
    """Class-probability targets (PyTorch's formula, built from differentiable ops, so
    the target gets its gradient -w log_softmax(x) too):
        loss_i = -sum_c w[c] target'_i[c] log_softmax(x_i)[c],
        target' = (1 - eps) target + eps / C;  "mean" divides by N d1 ... dk."""
    num_classes = x.shape[1]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    product = log_softmax(x, 1) * target
    if weight is not None:
        product = product * weight.reshape((num_classes,) + (1,) * (x.ndim - 2))
    loss = -product.sum(1)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if loss.numel() == 0:  # a mean over no sample is NaN, as in PyTorch
        return loss.sum() * float("nan")
    return loss.sum() / loss.numel()


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",  # noqa: A002
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` against class indices (int64) or class
    probabilities (``input``'s shape and dtype); see the module docstring."""
    _check_logits("cross_entropy", input)
    _check_reduction("cross_entropy", reduction)
    if not isinstance(label_smoothing, numbers.Real) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be a number in [0.0, 1.0], got {label_smoothing!r}"
        )
    unbatched = input.ndim == 1
    if unbatched:  # (C,) logits: one sample
        input = input.unsqueeze(0)
        if isinstance(target, Tensor):
            target = target.unsqueeze(0)
    num_classes = input.shape[1]
    weight = _check_weight("cross_entropy", weight, input, num_classes)
    if isinstance(target, Tensor) and dtypes.is_floating(target.dtype):
        _check_probability_target(input, target)
        loss = _cross_entropy_probabilities(input, target, weight, reduction, float(label_smoothing))
    else:
        _check_class_target("cross_entropy", input, target, ignore_index)
        weight = _default_weight("cross_entropy", weight, input, num_classes)
        loss = CrossEntropy.apply(input, target, weight, int(ignore_index), reduction, float(label_smoothing))
    if unbatched and reduction == "none":
        loss = loss.squeeze(0)
    return loss


# ------------------------------------------------------------------- nll_loss
class NLLLoss(Function):
    """loss_i = -w[t_i] x_i[t_i]; the gradient is -w[t_i] g_i at class t_i, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = namespace(x)
        target_weight, safe_target = _target_weight(target, weight, ignore_index)
        picked = xp.take_along_axis(x, safe_target[:, None], axis=1)[:, 0]
        loss = -target_weight * picked
        ctx.save_for_backward(target_weight, safe_target)
        ctx.shape, ctx.reduction = x.shape, reduction
        if reduction == "mean":
            ctx.denominator = target_weight.sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                return loss.sum() / ctx.denominator
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        target_weight, safe_target = ctx.saved_tensors
        xp = namespace(grad)
        count = ctx.denominator if ctx.reduction == "mean" else None
        grad_loss = _spread(grad, safe_target.shape, ctx.reduction, count)
        # One-hot along the class dim: position == target.
        classes = xp.arange(ctx.shape[1]).reshape((1, -1) + (1,) * (len(ctx.shape) - 2))
        one_hot = classes == safe_target[:, None]
        dx = one_hot * (-target_weight * grad_loss)[:, None]
        return dx.astype(grad.dtype, copy=False), None, None, None, None


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``."""
    _check_logits("nll_loss", input)
    _check_reduction("nll_loss", reduction)
    unbatched = input.ndim == 1
    if unbatched:
        input = input.unsqueeze(0)
        if isinstance(target, Tensor):
            target = target.unsqueeze(0)
    num_classes = input.shape[1]
    weight = _check_weight("nll_loss", weight, input, num_classes)
    weight = _default_weight("nll_loss", weight, input, num_classes)
    _check_class_target("nll_loss", input, target, ignore_index)
    loss = NLLLoss.apply(input, target, weight, int(ignore_index), reduction)
    if unbatched and reduction == "none":
        loss = loss.squeeze(0)
    return loss


# ------------------------------------------------------------------- mse_loss
class MSELoss(Function):
    """loss_i = (x_i - y_i)^2; d/dx = 2 (x - y) g, d/dy = -2 (x - y) g (y broadcasts)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        diff = x - y
        ctx.save_for_backward(diff)
        ctx.x_shape, ctx.y_shape, ctx.reduction = x.shape, y.shape, reduction
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        grad_diff = 2 * diff * _spread(grad, diff.shape, ctx.reduction)
        grad_x = unbroadcast(grad_diff, ctx.x_shape) if ctx.needs_input_grad[0] else None
        grad_y = unbroadcast(-grad_diff, ctx.y_shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y, None


def mse_loss(input, target, reduction="mean"):  # noqa: A002
    """Mean squared error; a target of another shape broadcasts, with PyTorch's warning."""
    _check_pair("mse_loss", input, target)
    _check_reduction("mse_loss", reduction)
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(
                f"mse_loss: target shape {target.shape} does not broadcast with input shape {input.shape}"
            ) from None
        warnings.warn(
            f"mse_loss: using a target size ({target.shape}) that is different to the input "
            f"size ({input.shape}); this will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=2,
        )
    return MSELoss.apply(input, target, reduction)


# ------------------------------------------------ binary_cross_entropy_with_logits
class BinaryCrossEntropyWithLogits(Function):
    """loss = w ((1 - y) x + c log(1 + e^-x)), c = 1 + (pw - 1) y.

    log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|) never overflows. Gradients:
        d/dx = w ((1 - y) - c sigmoid(-x))          (= w (sigmoid(x) - y) when pw = 1)
        d/dy = w ((pw - 1) log(1 + e^-x) - x)
    with sigmoid(-x) = exp(-x - log(1 + e^-x)), also overflow-free.
    """

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight, reduction):
        xp = namespace(x)
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        coefficient = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * x + coefficient * softplus_neg
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight, pos_weight, softplus_neg)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, pos_weight, softplus_neg = ctx.saved_tensors
        xp = namespace(x)
        grad_loss = _spread(grad, x.shape, ctx.reduction)
        if weight is not None:
            grad_loss = grad_loss * weight
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            coefficient = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
            sigmoid_neg = xp.exp(-x - softplus_neg)
            grad_x = grad_loss * ((1 - y) - coefficient * sigmoid_neg)
        if ctx.needs_input_grad[1]:
            slope = -x if pos_weight is None else (pos_weight - 1) * softplus_neg - x
            grad_y = grad_loss * slope
        return grad_x, grad_y, None, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",  # noqa: A002
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable formula (see the class docstring);
    ``weight`` broadcasts to the input's shape, ``pos_weight`` along its last dims."""
    name = "binary_cross_entropy_with_logits"
    _check_pair(name, input, target)
    _check_reduction(name, reduction)
    if target.shape != input.shape:
        raise ValueError(f"{name}: target size {target.shape} must be the same as input size {input.shape}")
    for label, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is None:
            continue
        _check_pair(name, input, extra, label)
        _check_not_differentiable(name, label, extra)
        try:
            broadcast = np.broadcast_shapes(extra.shape, input.shape)
        except ValueError:
            broadcast = None
        if broadcast != input.shape:
            raise ValueError(
                f"{name}: {label} of shape {extra.shape} must broadcast to the input shape {input.shape}"
            )
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


# ----------------------------------------------------------------- validation
def _check_logits(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
    if not dtypes.is_floating(x.dtype):
        raise TypeError(f"{name}: input must be floating point (logits), got dtype {x.dtype}")
    if x.dtype == dtypes.float16:
        raise TypeError(f"{name}: input must be float32 or float64, got float16; call .float()")
    if x.ndim == 0:
        raise ValueError(
            f"{name}: input must have a class dim: shape (C,), (N, C) or (N, C, d1, ...), got ()"
        )
    class_count = x.shape[1] if x.ndim > 1 else x.shape[0]
    if class_count == 0:
        raise ValueError(f"{name}: input must have at least one class, got shape {x.shape}")


def _check_reduction(name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_pair(name, x, other, label="target"):
    """``other`` is a Tensor on x's device with x's floating dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}: {label} must be a Tensor, got {type(other).__name__}")
    if not dtypes.is_floating(x.dtype):
        raise TypeError(f"{name}: input must be floating point, got dtype {x.dtype}")
    if other.dtype != x.dtype:
        raise TypeError(f"{name}: {label} must have the input's dtype {x.dtype}, got {other.dtype}")
    if other.device != x.device:
        raise RuntimeError(f"{name}: {label} is on {other.device} but input is on {x.device}")


def _check_not_differentiable(name, label, tensor):
    if tensor.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{name}: not differentiable with respect to {label} (as in PyTorch); "
            f"pass {label}.detach()"
        )


def _check_weight(name, weight, x, num_classes):
    """A user weight must be a (C,) tensor of x's dtype and device that needs no grad."""
    if weight is None:
        return None
    _check_pair(name, x, weight, "weight")
    if weight.shape != (num_classes,):
        raise ValueError(
            f"{name}: weight must have shape ({num_classes},), one value per class, got {weight.shape}"
        )
    return weight


def _default_weight(name, weight, x, num_classes):
    """The class weights the kernels need: the user's (no gradient flows to them, as
    in PyTorch), or all ones."""
    if weight is None:
        return Tensor._wrap(namespace(x.array).ones(num_classes, dtype=x.dtype))
    _check_not_differentiable(name, "weight", weight)
    return weight.detach()


def _check_class_target(name, x, target, ignore_index):
    """int64 class indices of shape (N, d1, ..., dk), each in [0, C) or ignore_index.
    The values are checked here so that no kernel ever indexes out of bounds."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}: target must be a Tensor, got {type(target).__name__}")
    if not isinstance(ignore_index, (int, np.integer)) or isinstance(ignore_index, bool):
        raise TypeError(f"{name}: ignore_index must be an integer, got {ignore_index!r}")
    if target.dtype != dtypes.int64:
        raise TypeError(
            f"{name}: class-index targets must be int64 (call .long()), got dtype {target.dtype}"
            + ("; float targets are class probabilities and need the input's shape"
               if dtypes.is_floating(target.dtype) else "")
        )
    expected = (x.shape[0],) + x.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"{name}: target must have shape {expected} for input of shape {x.shape}, got {target.shape}"
        )
    if target.device != x.device:
        raise RuntimeError(f"{name}: target is on {target.device} but input is on {x.device}")
    num_classes = x.shape[1]
    values = target.array
    outside = (values != ignore_index) & ((values < 0) | (values >= num_classes))
    if bool(outside.any()):
        first = int(values[outside].reshape(-1)[0])
        raise IndexError(
            f"{name}: target {first} is out of bounds: class indices must be in [0, {num_classes}) "
            f"or equal ignore_index={ignore_index}"
        )


def _check_probability_target(x, target):
    if target.shape != x.shape:
        raise ValueError(
            "cross_entropy: float targets are class probabilities and must have the input's "
            f"shape {x.shape}, got {target.shape}; class indices must be int64"
        )
    _check_pair("cross_entropy", x, target)
