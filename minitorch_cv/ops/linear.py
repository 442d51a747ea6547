"""``linear(input, weight, bias=None)``: the affine map of a fully connected layer.

Shapes: input (*, IN), weight (OUT, IN), bias (OUT,) -> output (*, OUT), with

    y = x W^T + b

Forward and backward flatten the leading dims * into one dim M, so that every product
is one 2-D matrix product (BLAS): NumPy's matmul of a 3-D array by a transposed 2-D one
loops over the batch without BLAS, 100x slower for a Transformer's (N, L, E) tokens.

Backward:

    grad_x = grad_y W            (M, OUT) @ (OUT, IN)
    grad_W = grad_y^T x          (OUT, M) @ (M, IN)
    grad_b = sum over M of grad_y
"""
from ..autograd import Function
from ..tensor import Tensor


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        out = x.reshape(-1, weight.shape[1]) @ weight.T
        if bias is not None:
            out += bias  # out is a fresh array, so adding in place is safe
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        out_features, in_features = weight.shape
        grad_2d = grad.reshape(-1, out_features)
        if ctx.needs_input_grad[0]:
            grad_x = (grad_2d @ weight).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_2d.T @ x.reshape(-1, in_features)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_2d.sum(axis=0)
        return grad_x, grad_weight, grad_bias


def linear(input, weight, bias=None):  # noqa: A002 - PyTorch's argument name
    """y = input @ weight^T + bias; input (*, IN), weight (OUT, IN), bias (OUT,)."""
    for value, arg in ((input, "input"), (weight, "weight")):
        if not isinstance(value, Tensor):
            raise TypeError(f"linear: {arg} must be a Tensor, got {type(value).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"linear: bias must be a Tensor or None, got {type(bias).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (OUT, IN), got shape {weight.shape}")
    if input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input's last dim must equal weight.shape[1] = {weight.shape[1]} "
            f"(in_features), got input shape {input.shape}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"linear: bias must have shape ({weight.shape[0]},) (out_features), got {bias.shape}"
        )
    for value, arg in ((weight, "weight"), (bias, "bias")):
        if value is not None and value.dtype != input.dtype:
            raise TypeError(
                f"linear: {arg} has dtype {value.dtype} but input has dtype {input.dtype}; "
                "convert the model or the input with .to()"
            )
    if not input.is_floating_point():
        raise TypeError(f"linear: expected a floating-point input, got dtype {input.dtype}")
    return Linear.apply(input, weight, bias)
