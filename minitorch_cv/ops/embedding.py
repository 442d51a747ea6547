"""Integer codes to vectors: ``embedding`` (a lookup table) and ``one_hot``.

    embedding:  out[..., :] = weight[input[...], :]     weight (num_embeddings, D)
                grad_weight[i] = sum of grad[...] over the positions where input == i
                (divided by the number of those positions with scale_grad_by_freq);
                row padding_idx gets no gradient; ``max_norm`` first rescales, in
                place, every looked-up row whose norm exceeds it (as PyTorch does).
    one_hot:    out[..., c] = 1 if input[...] == c else 0   (int64, no gradient)

The indices are checked to lie in [0, num_embeddings) in forward and again in
backward, where they are used to scatter (see ops/gather.py for why both).
"""
from .. import dtypes
from ..autograd import Function, no_grad
from ..devices import namespace
from ..tensor import Tensor
from .gather import check_index_range, scatter_add_into


class Embedding(Function):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        check_index_range("embedding", indices, weight.shape[0])
        ctx.save_for_backward(indices)
        ctx.weight_shape = weight.shape
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        count = ctx.weight_shape[0]
        check_index_range("embedding backward", indices, count)
        xp = namespace(grad)
        rows = grad.reshape(-1, ctx.weight_shape[1])
        flat = indices.reshape(-1)
        if ctx.scale_grad_by_freq:
            frequency = xp.bincount(flat, minlength=count)
            rows = rows / frequency[flat][:, None].astype(grad.dtype)
        grad_weight = xp.zeros(ctx.weight_shape, dtype=grad.dtype)
        scatter_add_into(grad_weight, flat, rows)
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight, None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,  # noqa: A002
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the int64 ``input``."""
    if not isinstance(input, Tensor) or input.dtype not in (dtypes.int64, dtypes.int32):
        detail = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(
            f"embedding: Expected tensor for argument #1 'indices' to have one of the following "
            f"scalar types: Long, Int; but got {detail} instead"
        )
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be a 2-D Tensor (num_embeddings, embedding_dim), got "
            f"{weight.shape if isinstance(weight, Tensor) else type(weight).__name__}"
        )
    if input.device != weight.device:
        raise RuntimeError(f"embedding: input is on {input.device} but weight on {weight.device}")
    if sparse:
        raise ValueError("embedding: sparse=True is not supported (no sparse gradients)")
    count = weight.shape[0]
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings ({count}), got {padding_idx}")
        padding_idx = padding_idx % count
    check_index_range("embedding", input.array, count)
    if max_norm is not None:
        _renorm_rows_(weight, input, float(max_norm), float(norm_type))
    return Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))


def _renorm_rows_(weight, input, max_norm, norm_type):  # noqa: A002
    """Scale, in place, each row of weight that input looks up and whose norm exceeds
    max_norm by max_norm / (norm + 1e-7), as PyTorch's embedding_renorm_."""
    xp = namespace(weight.array)
    rows = xp.unique(input.array.reshape(-1))
    with no_grad():
        values = weight.array[rows]
        norms = (xp.abs(values) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
        weight.array[rows] = values * scale[:, None]
        weight._bump_version()


def one_hot(tensor, num_classes=-1):
    """(...,) int64 class indices -> (..., num_classes) int64 with a 1 at each index;
    num_classes=-1 takes the largest index + 1."""
    if not isinstance(tensor, Tensor) or tensor.dtype != dtypes.int64:
        detail = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot is only applicable to index tensor of type LongTensor, got {detail}")
    xp = namespace(tensor.array)
    values = tensor.array
    if values.size and int(values.min()) < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        if values.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(values.max()) + 1
    elif values.size and int(values.max()) >= num_classes:
        raise RuntimeError("one_hot: Class values must be smaller than num_classes.")
    classes = xp.arange(num_classes, dtype=dtypes.int64)
    return Tensor._wrap((values[..., None] == classes).astype(dtypes.int64))
