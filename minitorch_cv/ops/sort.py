"""Ordering along a dim: sort, argsort, topk (PyTorch's signatures and return types).

    sort(x, dim, descending)  -> (values, indices): values = gather(x, dim, indices),
                                 indices the order that sorts each slice along dim
    argsort(x, dim, ...)      -> indices only
    topk(x, k, dim, largest)  -> (values, indices): the k largest (smallest) of each
                                 slice, largest (smallest) first

The sorts are stable: equal values keep their order (PyTorch guarantees it only with
``stable=True``, and leaves the order of ties unspecified otherwise; topk's ties come
lowest index first). Values are picked by their indices, so the gradient goes back
to where each value came from: grad_x = scatter(zeros, dim, indices, grad). (The
indices of one slice are distinct, so nothing needs adding.)
"""
import collections

import numpy as np

from .. import checks, dtypes
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import normalize_dim
from .gather import along_dim_key

# What sort/topk return, like torch.return_types.sort / topk
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopKResult = collections.namedtuple("topk", ["values", "indices"])


def sort_order(x, dim, descending):
    """Stable sorting indices of the array x along dim (int64)."""
    xp = namespace(x)
    if not descending:
        return xp.argsort(x, axis=dim, kind="stable").astype(np.int64, copy=False)
    # Descending and stable: sort a key that reverses the order of the values but
    # keeps equal values equal (negation for numbers, NOT for bools).
    key = ~x if x.dtype == np.bool_ else -x.astype(np.int64 if x.dtype.kind == "u" else x.dtype)
    return xp.argsort(key, axis=dim, kind="stable").astype(np.int64, copy=False)


class TakeSorted(Function):
    """values = x at ``indices`` along dim (indices computed by the caller)."""

    @staticmethod
    def forward(ctx, x, dim, indices):
        ctx.save_for_backward(indices)
        ctx.shape, ctx.dim = x.shape, dim
        return x[along_dim_key(namespace(x), indices, dim)]

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        xp = namespace(grad)
        grad_x = xp.zeros(ctx.shape, dtype=grad.dtype)
        grad_x[along_dim_key(xp, indices, ctx.dim)] = grad
        return grad_x, None, None



def _along(x, dim):
    """0-d tensors sort as 1-element vectors (PyTorch allows dim 0 or -1)."""
    return (x.reshape(1), 0) if x.ndim == 0 else (x, normalize_dim(dim, x.ndim))


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002 - PyTorch's names
    checks.tensor("sort", "input", input)
    x, axis = _along(input, dim)
    indices = sort_order(x.array, axis, descending)
    values = TakeSorted.apply(x, axis, indices)
    indices = Tensor._wrap(indices)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return SortResult(values, indices)


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    checks.tensor("argsort", "input", input)
    x, axis = _along(input, dim)
    indices = Tensor._wrap(sort_order(x.array, axis, descending))
    return indices.reshape(()) if input.ndim == 0 else indices


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's names
    """The k largest (``largest=False``: smallest) values along dim and their indices,
    largest (smallest) first; ``sorted=False`` gives them in that order too."""
    checks.tensor("topk", "input", input)
    x, axis = _along(input, dim)
    size = x.shape[axis]
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k <= size:
        raise RuntimeError(f"topk: k ({k!r}) is out of range: expected 0 <= k <= {size} (dim {dim})")
    if dtypes.is_floating(x.dtype) or x.dtype.kind in "iu":
        order = sort_order(x.array, axis, descending=largest)
    else:
        raise TypeError(f"topk: expected a numeric tensor, got dtype {x.dtype}")
    xp = namespace(order)
    indices = xp.take(order, xp.arange(int(k)), axis=axis)
    values = TakeSorted.apply(x, axis, indices)
    indices = Tensor._wrap(indices)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return TopKResult(values, indices)
