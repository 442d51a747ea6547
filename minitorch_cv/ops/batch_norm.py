"""Batch normalization (Ioffe and Szegedy, 2015) with PyTorch's semantics.

For input (N, C, *) and each channel c, over the M = N * S values of the channel
(S = product of the spatial dims, 1 for (N, C) input):

    training: mean, var = batch mean and BIASED variance of channel c
              running_mean <- (1 - momentum) running_mean + momentum mean
              running_var  <- (1 - momentum) running_var  + momentum var * M / (M - 1)
              (in place, with the UNBIASED variance, as PyTorch does)
    eval:     mean, var = running_mean, running_var
    both:     y = (x - mean) * invstd * weight + bias,   invstd = 1 / sqrt(var + eps)

Every kernel is in the ``batch_norm`` family (kernels/*/batch_norm). Forward:
batch_norm_statistics(x) gives the mean and variance in float64 (two passes: no
E[x^2] - E[x]^2 cancellation); then ONE elementwise pass batch_norm_scale_shift(x, scale,
shift) with scale = weight * invstd and shift = bias - mean * scale.

Backward, with xhat = (x - mean) * invstd:

    dbias   = sum dy,   dweight = sum dy * xhat      (per channel: batch_norm_backward_reduce)
    training: dx = weight invstd (dy - mean(dy) - xhat mean(dy xhat))   (batch_norm_backward_input;
              the means over the channel come from the two sums above, because the batch
              statistics depend on every x of the channel)
    eval:     dx = weight invstd dy    (the statistics are constants: an affine map;
              batch_norm_scale_shift with shift 0)
"""
import math
import numbers

from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array, namespace


class BatchNorm(Function):
    @staticmethod
    def forward(ctx, x, running_mean, running_var, weight, bias, training, momentum, eps):
        xp = namespace(x)
        kernels = backend.BATCH_NORM.on(device_of_array(x))
        N, C = x.shape[:2]
        S = math.prod(x.shape[2:])
        M = N * S  # values per channel
        channels = xp.ascontiguousarray(x).reshape(N, C, S)

        if training:
            mean, var = kernels.batch_norm_statistics(channels)  # float64
            if running_mean is not None:
                # Buffers, not graph inputs: updated in place, whatever the grad mode.
                running_mean[...] = (1 - momentum) * running_mean + momentum * mean
                running_var[...] = (1 - momentum) * running_var + momentum * var * (M / (M - 1))
        else:
            mean = running_mean.astype("float64")
            var = running_var.astype("float64")

        invstd = 1.0 / xp.sqrt(var + eps)
        scale = invstd if weight is None else weight * invstd
        shift = -mean * scale if bias is None else bias - mean * scale
        y = kernels.batch_norm_scale_shift(channels, scale.astype(x.dtype), shift.astype(x.dtype))

        ctx.save_for_backward(channels, mean.astype(x.dtype), invstd.astype(x.dtype), weight)
        ctx.shape, ctx.training = x.shape, training
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        channels, mean, invstd, weight = ctx.saved_tensors
        kernels = backend.BATCH_NORM.on(device_of_array(channels))
        dy = namespace(grad).ascontiguousarray(grad).reshape(channels.shape)
        needs_x, needs_weight, needs_bias = (ctx.needs_input_grad[i] for i in (0, 3, 4))

        sum_dy = sum_dy_xhat = None
        if needs_weight or needs_bias or (needs_x and ctx.training):
            sum_dy, sum_dy_xhat = kernels.batch_norm_backward_reduce(dy, channels, mean, invstd)

        dx = None
        if needs_x and ctx.training:
            dx = kernels.batch_norm_backward_input(
                dy, channels, mean, invstd, weight, sum_dy, sum_dy_xhat
            ).reshape(ctx.shape)
        elif needs_x:
            scale = invstd if weight is None else weight * invstd
            zeros = namespace(dy).zeros_like(scale)
            dx = kernels.batch_norm_scale_shift(dy, scale, zeros).reshape(ctx.shape)
        return (
            dx,
            None,
            None,
            sum_dy_xhat if needs_weight else None,
            sum_dy if needs_bias else None,
            None,
            None,
            None,
        )


def batch_norm(
    input,  # noqa: A002 - PyTorch's argument name
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-05,
):
    """PyTorch's ``F.batch_norm``: input (N, C), (N, C, L), (N, C, H, W) or (N, C, *).

    running_mean, running_var: (C,) buffers (updated in place when training), or None
    when training without running statistics; weight, bias: (C,) or None.
    """
    checks.float_tensor("batch_norm", "input", input)
    checks.min_ndim("batch_norm", input, 2, "a tensor of shape (N, C) or (N, C, *) with at least 2 dims")
    C = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        checks.per_channel("batch_norm", name, value, (C,), input)
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            "batch_norm: running_mean and running_var: expected both Tensors or both None, "
            f"got running_mean={'None' if running_mean is None else 'a Tensor'} and "
            f"running_var={'None' if running_var is None else 'a Tensor'}"
        )
    if not training and running_mean is None:
        raise ValueError(
            "batch_norm: running_mean and running_var: expected Tensors in evaluation mode "
            "(training=False normalizes with them), got None"
        )
    checks.per_channel("batch_norm", "weight", weight, (C,), input)
    checks.per_channel("batch_norm", "bias", bias, (C,), input)
    if not isinstance(momentum, numbers.Real) or isinstance(momentum, bool):
        # (nn.BatchNorm turns momentum=None into a cumulative average before calling this)
        raise TypeError(f"batch_norm: momentum must be a float, got {momentum!r}")
    momentum = float(momentum)
    eps = checks.positive_number("batch_norm", "eps", eps)
    training = bool(training)
    if training:
        checks.more_than_one_value("batch_norm", input, input.numel() // C if C else 0)
    out = BatchNorm.apply(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if training and running_mean is not None:  # forward updated them in place
        running_mean._bump_version()
        running_var._bump_version()
    return out
