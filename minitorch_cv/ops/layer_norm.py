"""Layer norm (Ba, Kiros and Hinton, 2016): normalization over each sample's own values.

    y = (x - mean) / sqrt(var + eps) * weight + bias, with mean and the biased variance
    over the trailing ``normalized_shape`` dims of each row; weight and bias have
    ``normalized_shape`` (elementwise affine).

It does not depend on the batch, so training and evaluation are the same computation.
The kernels (the ``layer_norm`` family) save mean and rstd = 1 / sqrt(var + eps) per row
for the backward, which is (kernels/reference/layer_norm.py derives it)

    dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),   g = dy * weight,
    dweight = sum over rows of dy * xhat,   dbias = sum over rows of dy.
"""
import math
import numbers

from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array, namespace


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, D, eps):
        rows = namespace(x).ascontiguousarray(x).reshape(-1, D)  # (R, D): one row per sample
        w = None if weight is None else weight.reshape(D)
        b = None if bias is None else bias.reshape(D)
        kernels = backend.LAYER_NORM.on(device_of_array(x))
        y, mean, rstd = kernels.layer_norm_forward(rows, w, b, eps)
        ctx.save_for_backward(rows, mean, rstd, w)
        ctx.shape = x.shape
        ctx.affine_shape = None if weight is None else weight.shape
        ctx.bias_shape = None if bias is None else bias.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        rows, mean, rstd, w = ctx.saved_tensors
        kernels = backend.LAYER_NORM.on(device_of_array(rows))
        dy = namespace(grad).ascontiguousarray(grad).reshape(rows.shape)
        dx = dweight = dbias = None
        if ctx.needs_input_grad[0]:
            dx = kernels.layer_norm_backward_input(dy, rows, mean, rstd, w).reshape(ctx.shape)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            sum_dy_xhat, sum_dy = kernels.layer_norm_backward_affine(dy, rows, mean, rstd)
            if ctx.needs_input_grad[1]:
                dweight = sum_dy_xhat.reshape(ctx.affine_shape)
            if ctx.needs_input_grad[2]:
                dbias = sum_dy.reshape(ctx.bias_shape)
        return dx, dweight, dbias, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):  # noqa: A002
    """Normalize over the trailing ``normalized_shape`` dims (PyTorch's ``F.layer_norm``).

    input: (*, *normalized_shape); weight, bias: ``normalized_shape`` or None.
    """
    checks.float_tensor("layer_norm", "input", input)
    checks.min_ndim("layer_norm", input, 1, "a tensor with at least 1 dim")
    normalized_shape = _as_shape(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or k > input.ndim or input.shape[input.ndim - k :] != normalized_shape:
        raise ValueError(
            f"layer_norm: normalized_shape: expected the trailing dims of input "
            f"(input shape {input.shape}, i.e. a non-empty suffix of it), got "
            f"{list(normalized_shape)}"
        )
    checks.per_channel("layer_norm", "weight", weight, normalized_shape, input)
    checks.per_channel("layer_norm", "bias", bias, normalized_shape, input)
    eps = checks.positive_number("layer_norm", "eps", eps)
    return LayerNorm.apply(input, weight, bias, math.prod(normalized_shape), eps)


def _as_shape(normalized_shape):
    """An int or a sequence of ints as a tuple of ints (nn.LayerNorm passes an int)."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    if not isinstance(normalized_shape, (tuple, list)) or not all(
        isinstance(size, numbers.Integral) and not isinstance(size, bool) for size in normalized_shape
    ):
        raise TypeError(
            f"layer_norm: normalized_shape must be an int or a sequence of ints, "
            f"got {normalized_shape!r}"
        )
    return tuple(int(size) for size in normalized_shape)
