"""Group norm (Wu and He, 2018): normalization over groups of each sample's channels.

    The C channels of each sample are split into ``num_groups`` groups of G' = C / G
    consecutive channels; mean and biased variance over each (sample, group), then
    y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c] per channel.

It does not depend on the batch, so training and evaluation are the same computation.
The kernels (the ``group_norm`` family) save mean and rstd = 1 / sqrt(var + eps) per
(sample, group) for the backward, which is (kernels/reference/group_norm.py derives it)

    dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),   g = dy * weight[c],

the means over the group, and dweight, dbias = the per-channel sums of dy * xhat and dy.
"""
import math

from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array, namespace


class GroupNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, G, eps):
        N, C = x.shape[:2]
        S = math.prod(x.shape[2:])
        grouped = namespace(x).ascontiguousarray(x).reshape(N, C, S)
        kernels = backend.GROUP_NORM.on(device_of_array(x))
        y, mean, rstd = kernels.group_norm_forward(grouped, weight, bias, G, eps)
        ctx.save_for_backward(grouped, mean, rstd, weight)
        ctx.shape, ctx.G = x.shape, G
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        grouped, mean, rstd, weight = ctx.saved_tensors
        kernels = backend.GROUP_NORM.on(device_of_array(grouped))
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


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):  # noqa: A002
    """Normalize each group of C / num_groups channels of each sample (``F.group_norm``).

    input: (N, C, *); weight, bias: (C,) or None.
    """
    checks.float_tensor("group_norm", "input", input)
    checks.min_ndim("group_norm", input, 2, "a tensor of shape (N, C, *) with at least 2 dims")
    num_groups = checks.integer("group_norm", "num_groups", num_groups)
    N, C = input.shape[:2]
    if num_groups <= 0 or C % num_groups != 0:
        raise ValueError(
            f"group_norm: num_groups: expected a positive divisor of the number of channels "
            f"C={C} (input shape {input.shape}), got {num_groups}"
        )
    checks.per_channel("group_norm", "weight", weight, (C,), input)
    checks.per_channel("group_norm", "bias", bias, (C,), input)
    eps = checks.positive_number("group_norm", "eps", eps)
    # PyTorch's check: it refuses a group of one value, but only when N * C / G * S is 1.
    checks.more_than_one_value("group_norm", input, N * (C // num_groups) * math.prod(input.shape[2:]))
    return GroupNorm.apply(input, weight, bias, num_groups, eps)
