"""``instance_norm``: batch norm of every (sample, channel) plane on its own.

For input (N, C, *) each plane x[n, c] is normalized with its own mean and biased
variance over the spatial positions (use_input_stats=True), or with the running
statistics of channel c:

    y[n, c] = (x[n, c] - mean) / sqrt(var + eps) * weight[c] + bias[c]

which is exactly batch norm of the input seen as (1, N*C, *): N*C "channels" with one
sample each, and weight/bias repeated N times. So this op is built from batch_norm
(its kernels and gradients) and differentiable reshapes. The running statistics, when
given, are updated as PyTorch does: each of the N copies moves by momentum, and the
channel's running value becomes the mean of its N copies.
"""
from ..autograd import no_grad
from ..tensor import Tensor
from .batch_norm import batch_norm
from .rearrange import repeat


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,  # noqa: A002
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization of an (N, C, *) input (see the module docstring)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"instance_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(
            f"instance_norm: expected an input of at least 3 dims (N, C, *), got shape {input.shape}"
        )
    N, C = input.shape[:2]
    if use_input_stats and input.numel() // max(N * C, 1) <= 1:
        raise ValueError(
            f"instance_norm: Expected more than 1 spatial element when training, got input size "
            f"{input.shape}"
        )
    planes = input.reshape((1, N * C) + input.shape[2:])

    def per_plane(t):
        return None if t is None else repeat(t, N)

    stats_mean, stats_var = per_plane(running_mean), per_plane(running_var)
    if stats_mean is not None:
        stats_mean, stats_var = stats_mean.detach(), stats_var.detach()
    out = batch_norm(planes, stats_mean, stats_var, per_plane(weight), per_plane(bias),
                     use_input_stats, momentum, eps)
    if running_mean is not None and use_input_stats:
        with no_grad():
            running_mean.copy_(stats_mean.reshape(N, C).mean(0))
            running_var.copy_(stats_var.reshape(N, C).mean(0))
    return out.reshape(input.shape)
