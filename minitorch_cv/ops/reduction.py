"""Reductions: sum, mean, amax/amin, max/min (with indices), var/std, logsumexp.

``dim`` is an int, a tuple of ints, or None (every dim); ``keepdim`` keeps the reduced
dims with size 1. Every backward first puts the reduced dims back (``expand_reduced``)
so that the output gradient broadcasts over the input.
"""
import collections

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import expand_reduced, normalize_dim, normalize_dims

# What max(dim)/min(dim) return, like torch.return_types.max
MaxMin = collections.namedtuple("MaxMin", ["values", "indices"])


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return x.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        grad = expand_reduced(grad, ctx.shape, ctx.dims, ctx.keepdim)
        return namespace(grad).broadcast_to(grad, ctx.shape), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return x.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        count = int(np.prod([ctx.shape[d] for d in ctx.dims]))
        grad = expand_reduced(grad, ctx.shape, ctx.dims, ctx.keepdim) / count
        return namespace(grad).broadcast_to(grad, ctx.shape), None, None


class Extremum(Function):
    """amax/amin: the gradient is shared evenly among tied extrema, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest):
        out = x.max(axis=dims, keepdims=True) if largest else x.min(axis=dims, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.dims, ctx.keepdim = dims, keepdim
        return out if keepdim else out.squeeze(axis=dims)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        hits = (x == out).astype(x.dtype)
        hits /= hits.sum(axis=ctx.dims, keepdims=True)
        return expand_reduced(grad, x.shape, ctx.dims, ctx.keepdim) * hits, None, None, None


class ExtremumAlongDim(Function):
    """max(dim)/min(dim): values and the index of the first extremum; the gradient
    goes to that index only."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest):
        xp = namespace(x)
        indices = xp.argmax(x, axis=dim) if largest else xp.argmin(x, axis=dim)
        indices = xp.expand_dims(indices, dim)
        values = xp.take_along_axis(x, indices, axis=dim)
        ctx.save_for_backward(indices)
        ctx.shape, ctx.dtype, ctx.dim = x.shape, x.dtype, dim
        if not keepdim:
            values, indices = values.squeeze(axis=dim), indices.squeeze(axis=dim)
        ctx.keepdim = keepdim
        return values, indices.astype(np.int64)

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        xp = namespace(grad_values)
        grad = expand_reduced(grad_values, ctx.shape, (ctx.dim,), ctx.keepdim)
        # One-hot along dim: position == saved index.
        ndim = len(ctx.shape)
        positions = xp.arange(ctx.shape[ctx.dim]).reshape(
            [-1 if d == ctx.dim else 1 for d in range(ndim)]
        )
        grad_x = (positions == indices) * grad
        return grad_x.astype(ctx.dtype, copy=False), None, None, None


class Var(Function):
    """Variance with ``correction`` (1 = unbiased, Bessel's correction; 0 = biased).

    d var / dx_i = 2 (x_i - mean) / (count - correction)
    """

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        count = int(np.prod([x.shape[d] for d in dims]))
        centered = x - x.mean(axis=dims, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.dims, ctx.keepdim = dims, keepdim
        # Like PyTorch, a non-positive denominator gives inf/nan rather than an error.
        ctx.denominator = float(count - correction) if count > correction else 0.0
        squares = (centered * centered).sum(axis=dims, keepdims=keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return squares / ctx.denominator

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved_tensors
        grad = expand_reduced(grad, centered.shape, ctx.dims, ctx.keepdim)
        scale = 2.0 / ctx.denominator if ctx.denominator > 0 else float("inf")
        return grad * centered * scale, None, None, None


class LogSumExp(Function):
    """log(sum(exp(x))) computed stably as m + log(sum(exp(x - m))), m = max(x).

    Its gradient is the softmax: d/dx_i = exp(x_i - m - log_sum). Backward uses the
    shift m and the small log_sum separately: exp(x - out) would subtract two large
    nearly equal numbers and lose float32 digits when |x| is large.
    """

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = namespace(x)
        peak = x.max(axis=dims, keepdims=True)
        # An all -inf slice would give nan from (-inf) - (-inf); shift by 0 there.
        peak = xp.where(xp.isfinite(peak), peak, 0)
        log_sum = xp.log(xp.exp(x - peak).sum(axis=dims, keepdims=True))
        ctx.save_for_backward(x, peak, log_sum)
        ctx.dims, ctx.keepdim = dims, keepdim
        out = log_sum + peak
        return out if keepdim else out.squeeze(axis=dims)

    @staticmethod
    def backward(ctx, grad):
        x, peak, log_sum = ctx.saved_tensors
        grad = expand_reduced(grad, x.shape, ctx.dims, ctx.keepdim)
        return grad * namespace(x).exp((x - peak) - log_sum), None, None


def _check_input(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")


def reduce_sum(input, dim=None, keepdim=False):  # noqa: A002 - PyTorch's name
    _check_input("sum", input)
    if input.dtype == dtypes.bool_:
        input = input.long()
    return Sum.apply(input, normalize_dims(dim, input.ndim), keepdim)


def mean(input, dim=None, keepdim=False):  # noqa: A002
    _check_input("mean", input)
    if not dtypes.is_floating(input.dtype):
        raise TypeError(
            f"mean: expected a floating-point input, got dtype {input.dtype}; use .float()"
        )
    return Mean.apply(input, normalize_dims(dim, input.ndim), keepdim)


def amax(input, dim=(), keepdim=False):  # noqa: A002
    _check_input("amax", input)
    return Extremum.apply(input, normalize_dims(dim, input.ndim), keepdim, True)


def amin(input, dim=(), keepdim=False):  # noqa: A002
    _check_input("amin", input)
    return Extremum.apply(input, normalize_dims(dim, input.ndim), keepdim, False)


def reduce_max(input, dim=None, keepdim=False):  # noqa: A002
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices);
    ``max(x, other)``: the elementwise maximum, as in PyTorch."""
    _check_input("max", input)
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(input, dim)
    if dim is None:
        return Extremum.apply(input, normalize_dims(None, input.ndim), False, True)
    return MaxMin(*ExtremumAlongDim.apply(input, normalize_dim(dim, input.ndim), keepdim, True))


def reduce_min(input, dim=None, keepdim=False):  # noqa: A002
    _check_input("min", input)
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(input, dim)
    if dim is None:
        return Extremum.apply(input, normalize_dims(None, input.ndim), False, False)
    return MaxMin(*ExtremumAlongDim.apply(input, normalize_dim(dim, input.ndim), keepdim, False))


def _correction(correction, unbiased):
    if correction is not None and unbiased is not None:
        raise ValueError("var: pass either correction or unbiased, not both")
    if unbiased is not None:
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def var(input, dim=None, *, correction=None, unbiased=None, keepdim=False):  # noqa: A002
    _check_input("var", input)
    dims = normalize_dims(dim, input.ndim)
    return Var.apply(input, dims, _correction(correction, unbiased), keepdim)


def std(input, dim=None, *, correction=None, unbiased=None, keepdim=False):  # noqa: A002
    from .elementwise import sqrt

    return sqrt(var(input, dim, correction=correction, unbiased=unbiased, keepdim=keepdim))


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    _check_input("logsumexp", input)
    return LogSumExp.apply(input, normalize_dims(dim, input.ndim), keepdim)


def argmax(input, dim=None, keepdim=False):  # noqa: A002
    """Index of the first maximum (over the flattened tensor when dim is None)."""
    return _arg_extremum(input, dim, keepdim, largest=True)


def argmin(input, dim=None, keepdim=False):  # noqa: A002
    return _arg_extremum(input, dim, keepdim, largest=False)


def _arg_extremum(x, dim, keepdim, largest):
    _check_input("argmax" if largest else "argmin", x)
    xp = namespace(x.array)
    pick = xp.argmax if largest else xp.argmin
    if dim is None:
        index = pick(x.array)
        if keepdim:
            index = xp.asarray(index).reshape((1,) * x.ndim)
    else:
        index = pick(x.array, axis=normalize_dim(dim, x.ndim), keepdims=keepdim)
    return Tensor._wrap(xp.asarray(index, dtype=np.int64))


def reduce_all(input):  # noqa: A002
    _check_input("all", input)
    return Tensor._wrap(namespace(input.array).asarray(input.array.all()))


def reduce_any(input):  # noqa: A002
    _check_input("any", input)
    return Tensor._wrap(namespace(input.array).asarray(input.array.any()))
