"""Running sums along a dim: ``cumsum``.

    out[i] = x[0] + x[1] + ... + x[i]                  (along dim)
    grad_x[j] = sum over i >= j of grad[i]             (each x[j] feeds every later out[i])

so the gradient is a cumulative sum run backwards: flip, cumsum, flip.
"""
from .. import dtypes
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import normalize_dim


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return namespace(x).cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        xp = namespace(grad)
        reversed_sum = xp.cumsum(xp.flip(grad, ctx.dim), axis=ctx.dim)
        return xp.ascontiguousarray(xp.flip(reversed_sum, ctx.dim)), None


def cumsum(input, dim, *, dtype=None):  # noqa: A002 - PyTorch's names
    """Cumulative sum along dim; integer and bool inputs sum in int64, as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"cumsum: input must be a Tensor, got {type(input).__name__}")
    dtype = dtypes.resolve(dtype)
    if dtype is None and not dtypes.is_floating(input.dtype):
        dtype = dtypes.int64
    if dtype is not None and dtype != input.dtype:
        input = input.to(dtype)
    if input.ndim == 0:
        return CumSum.apply(input.reshape(1), 0).reshape(())
    return CumSum.apply(input, normalize_dim(dim, input.ndim))
