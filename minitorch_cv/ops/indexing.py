"""``x[key]``: ints, slices (with steps), ``...``, ``None`` and advanced indexing with
integer arrays or boolean masks (Tensors, lists or NumPy arrays).

Backward scatters the gradient into zeros of the input's shape. Basic indexing picks
each element at most once, so plain assignment suffices; advanced indexing may pick an
element several times (``x[[0, 0]]``), so the gradients are added with ``add.at``.
"""
import numpy as np

from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor


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
    return GetItem.apply(input, key)
