"""Matrix product ``a @ b`` with NumPy's rules: batched, broadcast, and vector cases.

Shapes: (..., n, k) @ (..., k, m) -> (..., n, m), batch dims broadcast. A 1-D first
operand is a row vector (1, k) and a 1-D second operand a column (k, 1); the added dim
is removed from the result. Backward, for the 2-D picture:

    grad_a = grad @ b^T        grad_b = a^T @ grad

then summed back over broadcast batch dims.
"""
from ..autograd import Function
from ..tensor import Tensor
from ._util import unbroadcast


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # Promote vectors to matrices so that one formula covers every case: a vector
        # a is the row (1, k), a vector b the column (k, 1), and grad gets back the
        # size-1 dims that the forward removed.
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        grad2 = grad
        if b.ndim == 1:
            grad2 = grad2.reshape(grad2.shape + (1,))
        if a.ndim == 1:
            grad2 = grad2.reshape(grad2.shape[:-1] + (1,) + grad2.shape[-1:])

        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(grad2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(a2.swapaxes(-1, -2) @ grad2, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(input, other):  # noqa: A002 - PyTorch's argument name
    for value, arg in ((input, "input"), (other, "other")):
        if not isinstance(value, Tensor):
            raise TypeError(f"matmul: {arg} must be a Tensor, got {type(value).__name__}")
    _check_shapes(input.shape, other.shape)
    if input.dtype != other.dtype:
        raise TypeError(
            f"matmul: expected both tensors to have the same dtype, got {input.dtype} "
            f"(shape {input.shape}) and {other.dtype} (shape {other.shape})"
        )
    return MatMul.apply(input, other)


def _check_shapes(a, b):
    if len(a) == 0 or len(b) == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least one dimension, got shapes {a} and {b}"
        )
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        raise RuntimeError(
            f"matmul: shapes {a} and {b} cannot be multiplied "
            f"({inner_a} columns in the first vs {inner_b} rows in the second)"
        )
    batch_a, batch_b = a[:-2], b[:-2]
    for x, y in zip(reversed(batch_a), reversed(batch_b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"matmul: batch dimensions of shapes {a} and {b} do not broadcast"
            )


def mm(input, mat2):  # noqa: A002 - PyTorch's argument names
    """The product of two matrices (2-D only, no broadcasting)."""
    _check_ranks("mm", input, mat2, 2)
    return matmul(input, mat2)


def bmm(input, mat2):  # noqa: A002
    """Batched matrix product: (B, n, k) @ (B, k, m) -> (B, n, m), the same B on both
    sides (no broadcasting)."""
    _check_ranks("bmm", input, mat2, 3)
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(
            f"bmm: batch1 and batch2 must have the same batch size, got {input.shape} and "
            f"{mat2.shape}"
        )
    return matmul(input, mat2)


def _check_ranks(name, a, b, ndim):
    for value, arg in ((a, "input"), (b, "mat2")):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {arg} must be a Tensor, got {type(value).__name__}")
        if value.ndim != ndim:
            raise RuntimeError(f"{name}: {arg} must be a {ndim}D tensor, got shape {value.shape}")
