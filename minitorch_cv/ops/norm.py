"""Vector norms: ``norm`` (PyTorch's ``torch.norm`` / ``Tensor.norm``) and
``F.normalize``.

Over the reduced dims, for p = 2 (the default, also "fro"), 1, inf, -inf, 0 or any
other p:

    ||x||_p = (sum |x_i|^p)^(1/p)      ||x||_inf = max |x_i|      ||x||_-inf = min |x_i|
    ||x||_0 = the number of non-zero x_i

Gradients (n = ||x||_p):

    p = 2:      x / n
    p = 1:      sign(x)
    p = +-inf:  sign(x) at the |x_i| equal to n, shared evenly among ties
    p = 0:      0
    other p:    sign(x) |x|^(p-1) / n^(p-1)

and 0 where n = 0 (PyTorch's choice at that kink: the zero vector's norm is not
differentiable). ``normalize(x, p, dim, eps)`` = x / max(||x||_p, eps) along dim, built
from these differentiable ops.
"""
import math
import numbers

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import expand_reduced, normalize_dims


class VectorNorm(Function):
    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        xp = namespace(x)
        magnitude = xp.abs(x)
        if p == math.inf:
            n = magnitude.max(axis=dims, keepdims=True)
        elif p == -math.inf:
            n = magnitude.min(axis=dims, keepdims=True)
        elif p == 0:
            n = (x != 0).sum(axis=dims, keepdims=True).astype(x.dtype)
        elif p == 1:
            n = magnitude.sum(axis=dims, keepdims=True)
        elif p == 2:
            n = xp.sqrt((x * x).sum(axis=dims, keepdims=True))
        else:
            n = (magnitude**p).sum(axis=dims, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, n)
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        return n if keepdim else n.squeeze(axis=dims)

    @staticmethod
    def backward(ctx, grad):
        x, n = ctx.saved_tensors
        xp = namespace(x)
        p = ctx.p
        grad = expand_reduced(grad, x.shape, ctx.dims, ctx.keepdim)
        if p == 0:
            return xp.zeros_like(x), None, None, None
        sign = xp.sign(x)
        zero = x.dtype.type(0)
        if p in (math.inf, -math.inf):
            hits = (xp.abs(x) == n).astype(x.dtype)
            hits /= hits.sum(axis=ctx.dims, keepdims=True)
            local = sign * hits
        elif p == 1:
            local = sign
        else:
            safe_n = xp.where(n == 0, 1, n)
            if p == 2:
                local = xp.where(n == 0, zero, x / safe_n)
            else:  # |x|^(p-1) is infinite at x = 0 for p < 1: the gradient is 0 there
                with np.errstate(divide="ignore", invalid="ignore"):
                    power = xp.abs(x) ** (p - 1)
                    local = xp.where((n == 0) | (x == 0), zero, sign * power / safe_n ** (p - 1))
        return (grad * local).astype(x.dtype, copy=False), None, None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002 - PyTorch's names
    """The p-norm of input over ``dim`` (None: all of it) as a vector norm; ``p`` is a
    number, inf, -inf or "fro" (= 2). The matrix norm "nuc" is not provided."""
    if not isinstance(input, Tensor):
        raise TypeError(f"norm: input must be a Tensor, got {type(input).__name__}")
    if dtype is not None:
        input = input.to(dtype)
    if not dtypes.is_floating(input.dtype):
        raise RuntimeError(
            f"norm(): input dtype should be floating point, but got {input.dtype}"
        )
    if p == "fro" or p is None:
        p = 2.0
    elif p == "nuc":
        raise NotImplementedError("norm: the nuclear norm (p='nuc') is not provided")
    elif not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise ValueError(f"norm: p must be a number, inf, -inf or 'fro', got {p!r}")
    return VectorNorm.apply(input, float(p), normalize_dims(dim, input.ndim), keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):  # noqa: A002
    """input / max(||input||_p, eps) along ``dim`` (PyTorch's ``F.normalize``)."""
    if out is not None:
        raise ValueError("normalize: out= is not supported")
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize: input must be a Tensor, got {type(input).__name__}")
    denominator = norm(input, p, dim, keepdim=True).clamp(min=eps)
    return input / denominator.expand_as(input)
