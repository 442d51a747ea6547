"""Layer norm and group norm: normalization over each sample's own values.

    layer_norm: y = (x - mean) / sqrt(var + eps) * weight + bias, with mean and the
                biased variance over the trailing ``normalized_shape`` dims of each
                row; weight and bias have ``normalized_shape`` (elementwise affine).
    group_norm: the C channels of each sample are split into ``num_groups`` groups of
                C / G consecutive channels; mean and biased variance over each
                (sample, group), then weight[c] and bias[c] per channel.

Neither depends on the batch, so training and evaluation are the same computation.
The forward kernels save mean and rstd = 1 / sqrt(var + eps) per row (or group) for
the backward, which is (kernels/reference/norm.py derives it)

    dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),   g = dy * weight,
    dweight = sum over rows of dy * xhat,   dbias = sum over rows of dy.
"""
import math
import numbers

from .. import backend
from ..autograd import Function
from ..devices import device_of_array, namespace
from ._norm_checks import check_input, check_more_than_one_value, check_per_channel, check_positive


def _kernels(array):
    return backend.kernels("norm", device_of_array(array))


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, D, eps):
        rows = namespace(x).ascontiguousarray(x).reshape(-1, D)  # (R, D): one row per sample
        w = None if weight is None else weight.reshape(D)
        b = None if bias is None else bias.reshape(D)
        y, mean, rstd = _kernels(x).layer_norm_forward(rows, w, b, eps)
        ctx.save_for_backward(rows, mean, rstd, w)
        ctx.shape = x.shape
        ctx.affine_shape = None if weight is None else weight.shape
        ctx.bias_shape = None if bias is None else bias.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        rows, mean, rstd, w = ctx.saved_tensors
        kernels = _kernels(rows)
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


class GroupNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, G, eps):
        N, C = x.shape[:2]
        S = math.prod(x.shape[2:])
        grouped = namespace(x).ascontiguousarray(x).reshape(N, C, S)
        y, mean, rstd = _kernels(x).group_norm_forward(grouped, weight, bias, G, eps)
        ctx.save_for_backward(grouped, mean, rstd, weight)
        ctx.shape, ctx.G = x.shape, G
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        grouped, mean, rstd, weight = ctx.saved_tensors
        kernels = _kernels(grouped)
        dy = namespace(grad).ascontiguousarray(grad).reshape(grouped.shape)
        # Per-(n, c) sums: summed over n they are the affine gradients, and the input
        # gradient needs them (weighted by weight[c]) summed over each group.
        sum_dy, sum_dy_xhat = kernels.group_norm_backward_reduce(dy, grouped, mean, rstd, ctx.G)
        dx = dweight = dbias = None
        if ctx.needs_input_grad[0]:
            dx = kernels.group_norm_backward_input(
                dy, grouped, mean, rstd, weight, sum_dy, sum_dy_xhat, ctx.G
            ).reshape(ctx.shape)
        if ctx.needs_input_grad[1]:
            dweight = sum_dy_xhat.sum(axis=0)
        if ctx.needs_input_grad[2]:
            dbias = sum_dy.sum(axis=0)
        return dx, dweight, dbias, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):  # noqa: A002
    """Normalize over the trailing ``normalized_shape`` dims (PyTorch's ``F.layer_norm``).

    input: (*, *normalized_shape); weight, bias: ``normalized_shape`` or None.
    """
    check_input("layer_norm", input, 1, "a tensor with at least 1 dim")
    normalized_shape = _as_shape(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or k > input.ndim or input.shape[input.ndim - k :] != normalized_shape:
        raise ValueError(
            f"layer_norm: normalized_shape: expected the trailing dims of input "
            f"(input shape {input.shape}, i.e. a non-empty suffix of it), got "
            f"{list(normalized_shape)}"
        )
    check_per_channel("layer_norm", "weight", weight, normalized_shape, input)
    check_per_channel("layer_norm", "bias", bias, normalized_shape, input)
    eps = check_positive("layer_norm", "eps", eps)
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


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):  # noqa: A002
    """Normalize each group of C / num_groups channels of each sample (``F.group_norm``).

    input: (N, C, *); weight, bias: (C,) or None.
    """
    check_input("group_norm", input, 2, "a tensor of shape (N, C, *) with at least 2 dims")
    if not isinstance(num_groups, int) or isinstance(num_groups, bool):
        raise TypeError(f"group_norm: num_groups must be an int, got {num_groups!r}")
    N, C = input.shape[:2]
    if num_groups <= 0 or C % num_groups != 0:
        raise ValueError(
            f"group_norm: num_groups: expected a positive divisor of the number of channels "
            f"C={C} (input shape {input.shape}), got {num_groups}"
        )
    check_per_channel("group_norm", "weight", weight, (C,), input)
    check_per_channel("group_norm", "bias", bias, (C,), input)
    eps = check_positive("group_norm", "eps", eps)
    # PyTorch's check: it refuses a group of one value, but only when N * C / G * S is 1.
    check_more_than_one_value("group_norm", input, N * (C // num_groups) * math.prod(input.shape[2:]))
    return GroupNorm.apply(input, weight, bias, num_groups, eps)
