"""``x[key]`` and ``x[key] = value``: ints, slices (with steps), ``...``, ``None`` and
advanced indexing with integer arrays or boolean masks (Tensors, lists or NumPy arrays).

GetItem's backward scatters the gradient into zeros of the input's shape. Basic
indexing picks each element at most once, so plain assignment suffices; advanced
indexing may pick an element several times (``x[[0, 0]]``), so the gradients are added
with ``add.at``.

SetItem writes into x in place (see ops/inplace.py for the rules): the overwritten
elements of x get no gradient, ``value`` gets the gradient at the elements it wrote
(summed back over its broadcast dims).
"""
import numpy as np

from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import is_scalar, python_scalar, unbroadcast
from .inplace import check_inplace


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        xp = namespace(grad)
        grad_x = xp.zeros(ctx.shape, dtype=ctx.dtype)
        if _is_advanced(ctx.key):
            _scatter_add(xp, grad_x, ctx.key, grad)
        else:
            grad_x[ctx.key] = grad
        return grad_x, None


class SetItem(Function):
    @staticmethod
    def forward(ctx, x, value, key):
        ctx.key, ctx.value_shape = key, np.shape(value)
        x[key] = value
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad.copy()
        grad_x[ctx.key] = 0
        grad_value = None
        if ctx.needs_input_grad[1]:
            grad_value = unbroadcast(grad[ctx.key], ctx.value_shape)
        return grad_x, grad_value, None


def _scatter_add(xp, target, key, values):
    if xp is np:
        np.add.at(target, key, values)
    else:  # CuPy spells the unbuffered add as cupyx.scatter_add
        import cupyx

        cupyx.scatter_add(target, key, values)


def _is_advanced(key):
    parts = key if isinstance(key, tuple) else (key,)
    return any(hasattr(p, "shape") and hasattr(p, "dtype") for p in parts)


def array_key(key, xp=np):
    """Translate a user's key: Tensors become arrays, lists become integer/bool arrays."""
    if isinstance(key, tuple):
        return tuple(array_key(k, xp) for k in key)
    if isinstance(key, Tensor):
        return key.array
    if isinstance(key, list):
        return xp.asarray(key)
    return key


def getitem(input, key):  # noqa: A002 - PyTorch's argument name
    return GetItem.apply(input, _checked_key(input, key))


def setitem(input, key, value):  # noqa: A002
    """``input[key] = value`` with a number, a Tensor (converted to input's dtype) or
    array-like data."""
    check_inplace("__setitem__", input, value)
    key = _checked_key(input, key)
    if isinstance(value, Tensor):
        if value.device != input.device:
            raise RuntimeError(
                f"__setitem__: value is on {value.device} but the tensor is on {input.device}"
            )
        if value.dtype != input.dtype:
            value = value.to(input.dtype)
    elif not is_scalar(value):
        value = Tensor(namespace(input.array).asarray(value, dtype=input.dtype))
    else:
        value = python_scalar(value)
    SetItem.apply(input, value, key)


def _checked_key(input, key):  # noqa: A002
    xp = namespace(input.array)
    key = array_key(key, xp)
    parts = key if isinstance(key, tuple) else (key,)
    for part in parts:
        if hasattr(part, "dtype") and part.dtype.kind not in "biu":
            raise IndexError(
                f"index: tensors used as indices must be integer or bool, got dtype {part.dtype}"
            )
        if hasattr(part, "dtype") and namespace(part) is not xp:
            raise RuntimeError(
                f"index: the index is on a different device than the tensor ({input.device})"
            )
    return key


def nonzero(input, *, as_tuple=False):  # noqa: A002
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, one row per
    element in row-major order, or (as_tuple=True) one 1-D tensor per dim."""
    if not isinstance(input, Tensor):
        raise TypeError(f"nonzero: input must be a Tensor, got {type(input).__name__}")
    xp = namespace(input.array)
    if input.ndim == 0:
        count = int(bool(input.array))
        rows = xp.zeros((count, 0), dtype=np.int64)
        return (Tensor._wrap(xp.zeros(count, dtype=np.int64)),) if as_tuple else Tensor._wrap(rows)
    per_dim = [i.astype(np.int64) for i in xp.nonzero(input.array)]
    if as_tuple:
        return tuple(Tensor._wrap(i) for i in per_dim)
    return Tensor._wrap(xp.stack(per_dim, axis=1))
