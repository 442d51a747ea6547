"""Shape ops: reshape/view, permute/transpose/t, squeeze/unsqueeze/flatten, expand,
contiguous, cat/stack, split/chunk/unbind. None of them changes a value, so every
backward only moves gradient entries back to where they came from."""
import numpy as np

from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import normalize_dim, unbroadcast


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        # The inverse permutation sends every axis back to where it came from.
        return grad.transpose(tuple(np.argsort(ctx.dims))), None


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return namespace(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape), None


class Contiguous(Function):
    @staticmethod
    def forward(ctx, x):
        return namespace(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return namespace(xs[0]).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        bounds = np.cumsum(ctx.sizes)[:-1].tolist()
        return (None,) + tuple(namespace(grad).split(grad, bounds, axis=ctx.dim))


class Stack(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return namespace(xs[0]).stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        count = grad.shape[ctx.dim]
        return (None,) + tuple(grad.take(i, axis=ctx.dim) for i in range(count))


class Split(Function):
    """One input, several outputs: the pieces along ``dim`` of the given sizes."""

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        bounds = np.cumsum(sizes)[:-1].tolist()
        return tuple(namespace(x).split(x, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        # The engine passes zeros for pieces that received no gradient.
        return namespace(grads[0]).concatenate(grads, axis=ctx.dim), None, None


class Unbind(Function):
    """One input, one output per index along ``dim``: the slices with that dim removed
    (views, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(x[(slice(None),) * dim + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return namespace(grads[0]).stack(grads, axis=ctx.dim), None


def _check(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")


def reshape(input, shape):  # noqa: A002 - PyTorch's argument name
    """The same values in another shape: a view when the layout allows one, else a copy."""
    _check("reshape", input)
    return Reshape.apply(input, _resolved_shape("reshape", input, shape))


def view(input, shape):  # noqa: A002
    """The same memory seen with another shape. As in PyTorch, only when the input's
    strides allow it without a copy (a contiguous tensor always does); ``reshape``
    copies when they do not."""
    _check("view", input)
    shape = _resolved_shape("view", input, shape)
    if _view_strides(input, shape) is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return Reshape.apply(input, shape)


def _resolved_shape(name, input, shape):  # noqa: A002
    """``shape`` with its -1 (at most one) replaced by the size that keeps numel."""
    shape = tuple(int(s) for s in shape)
    known = [s for s in shape if s != -1]
    if shape.count(-1) > 1 or any(s < -1 for s in shape):
        raise ValueError(f"{name}: invalid shape {shape} (at most one -1, no other negatives)")
    total = int(np.prod(known)) if known else 1
    fits = total == input.numel() if -1 not in shape else (total and input.numel() % total == 0)
    if not fits:
        raise RuntimeError(f"{name}: shape {shape} is invalid for an input of shape {input.shape}")
    if -1 in shape:
        shape = tuple(input.numel() // total if s == -1 else s for s in shape)
    return shape


def _view_strides(input, shape):  # noqa: A002
    """The strides (in elements) a view of ``shape`` would have, or None if no view
    exists: PyTorch's rule (computeStride). Walking the input's dims from the last,
    dims whose strides chain (stride[d-1] == stride[d] * size[d]) form one contiguous
    chunk; a view can only split or merge dims within a chunk."""
    old_shape = input.shape
    if input.numel() == 0 or input.ndim == 0 or input.is_contiguous():
        return ()  # always possible (the strides themselves are not needed)
    old_strides = [s // input.array.itemsize for s in input.array.strides]
    new_strides = [0] * len(shape)
    view_d = len(shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        chunk_ends = tensor_d == 0 or (
            old_shape[tensor_d - 1] != 1
            and old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride
        )
        if chunk_ends:
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return None if view_d != -1 else tuple(new_strides)


def permute(input, dims):  # noqa: A002
    _check("permute", input)
    dims = tuple(normalize_dim(d, input.ndim) for d in dims)
    if sorted(dims) != list(range(input.ndim)):
        raise ValueError(
            f"permute: dims must be a permutation of 0..{input.ndim - 1}, got {dims}"
        )
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):  # noqa: A002
    _check("transpose", input)
    dims = list(range(input.ndim))
    a, b = normalize_dim(dim0, input.ndim, "dim0"), normalize_dim(dim1, input.ndim, "dim1")
    if input.ndim < 2:
        return input
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, tuple(dims))


def t(input):  # noqa: A002
    """The transpose of a 2-D tensor; 0-D and 1-D tensors are returned as they are."""
    _check("t", input)
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    _check("flatten", input)
    if input.ndim == 0:
        return reshape(input, (1,))
    start = normalize_dim(start_dim, input.ndim, "start_dim")
    end = normalize_dim(end_dim, input.ndim, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})")
    shape = input.shape
    merged = int(np.prod(shape[start : end + 1]))
    return reshape(input, shape[:start] + (merged,) + shape[end + 1 :])


def squeeze(input, dim=None):  # noqa: A002
    _check("squeeze", input)
    if dim is None:
        dims = [d for d, size in enumerate(input.shape) if size == 1]
    else:
        dims = [normalize_dim(d, input.ndim) for d in ((dim,) if isinstance(dim, int) else dim)]
        dims = [d for d in dims if input.shape[d] == 1]  # PyTorch leaves other dims alone
    shape = tuple(size for d, size in enumerate(input.shape) if d not in dims)
    return reshape(input, shape)


def unsqueeze(input, dim):  # noqa: A002
    _check("unsqueeze", input)
    dim = normalize_dim(dim, input.ndim + 1)
    return reshape(input, input.shape[:dim] + (1,) + input.shape[dim:])


def expand(input, shape):  # noqa: A002
    """Broadcast to ``shape``; -1 keeps a dim's size; new dims may be prepended."""
    _check("expand", input)
    shape = tuple(int(s) for s in shape)
    extra = len(shape) - input.ndim
    if extra < 0:
        raise ValueError(f"expand: shape {shape} has fewer dims than the input {input.shape}")
    target = []
    for i, size in enumerate(shape):
        old = input.shape[i - extra] if i >= extra else None
        if size == -1:
            if old is None:
                raise ValueError(f"expand: -1 is not allowed for a new leading dim, got {shape}")
            size = old
        if old is not None and old != 1 and old != size:
            raise ValueError(f"expand: cannot expand shape {input.shape} to {shape}")
        target.append(size)
    return Expand.apply(input, tuple(target))


def contiguous(input):  # noqa: A002
    _check("contiguous", input)
    if input.is_contiguous():
        return input
    return Contiguous.apply(input)


def _as_list(name, tensors):
    if isinstance(tensors, Tensor):  # list(tensor) would silently split it into rows
        raise TypeError(f"{name}: expected a sequence of Tensors, got a single Tensor")
    return list(tensors)


def _check_sequence(name, tensors):
    if not tensors:
        raise TypeError(f"{name}: expected a non-empty sequence of Tensors")
    for t in tensors:
        _check(name, t)
    first = tensors[0]
    for t in tensors[1:]:
        if t.dtype != first.dtype:
            raise TypeError(f"{name}: expected tensors of one dtype, got {first.dtype} and {t.dtype}")


def cat(tensors, dim=0):
    tensors = _as_list("cat", tensors)
    _check_sequence("cat", tensors)
    dim = normalize_dim(dim, tensors[0].ndim)
    for t in tensors[1:]:
        others = [s for d, s in enumerate(t.shape) if d != dim]
        expected = [s for d, s in enumerate(tensors[0].shape) if d != dim]
        if t.ndim != tensors[0].ndim or others != expected:
            raise ValueError(
                f"cat: shapes {tensors[0].shape} and {t.shape} differ outside dim {dim}"
            )
    return Cat.apply(dim, *tensors)


concat = cat


def stack(tensors, dim=0):
    tensors = _as_list("stack", tensors)
    _check_sequence("stack", tensors)
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: expected equal shapes, got {tensors[0].shape} and {t.shape}")
    return Stack.apply(normalize_dim(dim, tensors[0].ndim + 1), *tensors)


def split(input, split_size_or_sections, dim=0):  # noqa: A002
    """Pieces of ``split_size`` along dim (the last may be smaller), or of the given sizes."""
    _check("split", input)
    dim = normalize_dim(dim, input.ndim)
    length = input.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise ValueError(
                f"split: sections {sizes} must be non-negative and add up to {length} (dim {dim})"
            )
    return Split.apply(input, sizes, dim)


def chunk(input, chunks, dim=0):  # noqa: A002
    """``chunks`` pieces of size ceil(length / chunks) (fewer if they run out), as in PyTorch."""
    _check("chunk", input)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    length = input.shape[normalize_dim(dim, input.ndim)]
    step = max(-(-length // chunks), 1)
    return split(input, step, dim)


def unbind(input, dim=0):  # noqa: A002
    """The slices of input along dim, as a tuple of tensors without that dim."""
    _check("unbind", input)
    if input.ndim == 0:
        raise IndexError("unbind: dimension specified as 0 but tensor has no dimensions")
    dim = normalize_dim(dim, input.ndim)
    if input.shape[dim] == 0:
        return ()
    outputs = Unbind.apply(input, dim)
    return outputs if isinstance(outputs, tuple) else (outputs,)
