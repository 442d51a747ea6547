"""Indexing along one dim with an index tensor: gather, scatter, scatter_add, index_select.

With ``index`` of the input's rank and d = dim (PyTorch's definitions, for 3-D):

    gather       out[i][j][k]  = x[i][index[i][j][k]][k]                    (d = 1)
    scatter      out = x;  out[i][index[i][j][k]][k]  = src[i][j][k]       (last write wins)
    scatter_add  out = x;  out[i][index[i][j][k]][k] += src[i][j][k]
    index_select out[i][j][k]  = x[i][index[j]][k]                          (1-D index)

All are one NumPy/CuPy advanced-indexing expression with the key ``along_dim_key``
builds: x[key] gathers, out[key] = src scatters. Gradients are the same operations
the other way round:

    gather:       grad_x = scatter_add(zeros, index, grad)       (repeated indices add)
    scatter:      grad_x = grad with zeros where src was written, grad_src = gather(grad)
    scatter_add:  grad_x = grad,                                  grad_src = gather(grad)

The indices are checked to lie in [0, size) in forward AND in backward, where they are
used again: a tensor built with ``from_numpy`` can be changed through NumPy without
bumping its version. (NumPy would raise on an index out of range; CuPy wraps around.)
"""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import is_scalar, normalize_dim, python_scalar
from .inplace import check_inplace, store_result


def along_dim_key(xp, index, dim):
    """The advanced-indexing key with ``a[key][i, j, k] = a[i, index[i, j, k], k]`` (dim
    1): ``index`` itself along dim, and along every other dim the element's own position
    (an arange shaped to broadcast)."""
    key = []
    for d, size in enumerate(index.shape):
        if d == dim:
            key.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = size
            key.append(xp.arange(size).reshape(shape))
    return tuple(key)


def scatter_add_into(target, key, values):
    """target[key] += values, adding repeated positions (NumPy's add.at, CuPy's
    cupyx.scatter_add)."""
    if namespace(target) is np:
        np.add.at(target, key, values)
    else:
        import cupyx

        cupyx.scatter_add(target, key, values)


def check_index_range(name, index, size, what="index"):
    """Every value of the integer array ``index`` in [0, size), else IndexError."""
    if index.size == 0:
        return
    xp = namespace(index)
    low, high = int(xp.min(index)), int(xp.max(index))
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        raise IndexError(
            f"{name}: {what} {bad} is out of bounds for dimension of size {size} "
            f"(expected values in [0, {size}))"
        )


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        check_index_range("gather", index, x.shape[dim])
        ctx.save_for_backward(index)
        ctx.shape, ctx.dim = x.shape, dim
        return x[along_dim_key(namespace(x), index, dim)]

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        check_index_range("gather backward", index, ctx.shape[ctx.dim])
        grad_x = namespace(grad).zeros(ctx.shape, dtype=grad.dtype)
        scatter_add_into(grad_x, along_dim_key(namespace(grad), index, ctx.dim), grad)
        return grad_x, None, None


class Scatter(Function):
    """scatter (``add=False``) and scatter_add (``add=True``) of src (an array of the
    index's shape, or a number) into a copy of x, or into x itself."""

    @staticmethod
    def forward(ctx, x, dim, index, src, add, inplace):
        check_index_range("scatter_add" if add else "scatter", index, x.shape[dim])
        key = along_dim_key(namespace(x), index, dim)
        # src may be larger than index: only its leading block of index's shape is used.
        values = src[tuple(slice(0, s) for s in index.shape)] if hasattr(src, "shape") else src
        out = x if inplace else x.copy()
        if add:
            scatter_add_into(out, key, values)
        else:
            out[key] = values
        ctx.save_for_backward(index)
        ctx.dim, ctx.add, ctx.src_shape = dim, add, np.shape(src)
        return store_result(ctx, x, out, inplace)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        check_index_range("scatter backward", index, grad.shape[ctx.dim])
        xp = namespace(grad)
        key = along_dim_key(xp, index, ctx.dim)
        grad_x = grad
        if not ctx.add:  # the written elements lost their old values
            grad_x = grad.copy()
            grad_x[key] = 0
        grad_src = None
        if ctx.needs_input_grad[3]:
            grad_src = xp.zeros(ctx.src_shape, dtype=grad.dtype)
            grad_src[tuple(slice(0, s) for s in index.shape)] = grad[key]
        return grad_x, None, None, grad_src, None, None


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        check_index_range("index_select", index, x.shape[dim])
        ctx.save_for_backward(index)
        ctx.shape, ctx.dim = x.shape, dim
        return namespace(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        check_index_range("index_select backward", index, ctx.shape[ctx.dim])
        grad_x = namespace(grad).zeros(ctx.shape, dtype=grad.dtype)
        scatter_add_into(grad_x, (slice(None),) * ctx.dim + (index,), grad)
        return grad_x, None, None


# ------------------------------------------------------------------ wrappers
def _check_index(name, input, index, dim):  # noqa: A002
    """PyTorch's rules for gather/scatter: an int64 index of the input's rank, on its
    device. Returns the normalized dim."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(index, Tensor) or index.dtype != dtypes.int64:
        detail = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise TypeError(f"{name}(): Expected dtype int64 for index, got {detail}")
    if index.device != input.device:
        raise RuntimeError(f"{name}: index is on {index.device} but input is on {input.device}")
    if index.ndim != input.ndim:
        raise RuntimeError(
            f"{name}: Index tensor must have the same number of dimensions as input tensor "
            f"(input {input.shape}, index {index.shape})"
        )
    dim = normalize_dim(dim, input.ndim)
    for d in range(index.ndim):
        if d != dim and index.shape[d] > input.shape[d]:
            raise RuntimeError(
                f"{name}: Size does not match at dimension {d} expected index {index.shape} "
                f"to be no larger than self {input.shape} apart from dimension {dim}"
            )
    return dim


def gather(input, dim, index, *, sparse_grad=False):  # noqa: A002 - PyTorch's names
    dim = _check_index("gather", input, index, dim)
    if sparse_grad:
        raise ValueError("gather: sparse_grad=True is not supported (no sparse tensors)")
    return Gather.apply(input, dim, index)


def _scatter(name, input, dim, index, src, value, reduce, inplace):  # noqa: A002
    dim = _check_index(name, input, index, dim)
    if (src is None) == (value is None):
        raise TypeError(f"{name}: expected exactly one of src and value")
    source = src if src is not None else value
    if reduce not in (None, "add"):
        raise ValueError(
            f"{name}: reduce must be None or 'add' (scatter_add), got {reduce!r}; "
            "'multiply' is not supported"
        )
    if isinstance(source, Tensor):
        if source.device != input.device or source.dtype != input.dtype:
            raise RuntimeError(
                f"{name}: src must have the input's dtype {input.dtype} and device "
                f"{input.device}, got {source.dtype} on {source.device}"
            )
        if source.ndim != index.ndim or any(i > s for i, s in zip(index.shape, source.shape)):
            raise RuntimeError(
                f"{name}: expected index {index.shape} to be no larger than src {source.shape}"
            )
    elif is_scalar(source):
        source = python_scalar(source)
    else:
        raise TypeError(f"{name}: src/value must be a Tensor or a number, got {type(source).__name__}")
    if inplace:
        check_inplace(name, input, source)
    return Scatter.apply(input, dim, index, source, reduce == "add", inplace)


def scatter(input, dim, index, src=None, value=None, reduce=None):  # noqa: A002
    """A copy of input with ``src`` (or the number ``value``) written at ``index`` along
    dim; see the module docstring. Repeated indices: one of the writes wins."""
    return _scatter("scatter", input, dim, index, src, value, reduce, inplace=False)


def scatter_(input, dim, index, src=None, value=None, reduce=None):  # noqa: A002
    return _scatter("scatter_", input, dim, index, src, value, reduce, inplace=True)


def scatter_add(input, dim, index, src):  # noqa: A002
    return _scatter("scatter_add", input, dim, index, src, None, "add", inplace=False)


def scatter_add_(input, dim, index, src):  # noqa: A002
    return _scatter("scatter_add_", input, dim, index, src, None, "add", inplace=True)


def index_select(input, dim, index):  # noqa: A002
    """The entries of input at the positions ``index`` (1-D int64) along dim."""
    if not isinstance(input, Tensor):
        raise TypeError(f"index_select: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(index, Tensor) or index.dtype not in (dtypes.int64, dtypes.int32):
        raise TypeError("index_select(): Expected dtype int32/int64 for index")
    if index.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got shape {index.shape}")
    if index.device != input.device:
        raise RuntimeError(
            f"index_select: index is on {index.device} but input is on {input.device}"
        )
    dim = normalize_dim(dim, input.ndim)
    if input.ndim == 0:
        return IndexSelect.apply(input.reshape(1), 0, index.reshape(-1)).reshape(())
    return IndexSelect.apply(input, dim, index.reshape(-1))
