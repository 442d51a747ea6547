"""``InstanceNorm2d``: normalization of every (sample, channel) plane on its own
(Ulyanov et al., 2016; style transfer's normalization).

    y[n, c] = (x[n, c] - mean[n, c]) / sqrt(var[n, c] + eps) * weight[c] + bias[c]

with the plane's own statistics, or the running ones in eval mode when
``track_running_stats=True``. PyTorch's defaults: ``affine=False`` and
``track_running_stats=False`` (so by default there is nothing to learn or track).
"""
from .. import checks, creation, dtypes
from . import functional as F
from .module import Module
from .normalization import _affine_parameters


class InstanceNorm2d(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__()
        checks.integer("InstanceNorm2d", "num_features", num_features, minimum=1)
        dtype = checks.floating_dtype("InstanceNorm2d", dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, num_features, affine, bias, dtype, device)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer(
                "num_batches_tracked", creation.zeros((), dtype=dtypes.int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        if input.ndim not in (3, 4):
            raise ValueError(f"InstanceNorm2d: expected 3D or 4D input (got {input.ndim}D input)")
        if input.shape[-3] != self.num_features and self.affine:
            raise ValueError(
                f"InstanceNorm2d: expected input's size at dim={input.ndim - 3} to match "
                f"num_features ({self.num_features}), but got: {input.shape[-3]}."
            )
        batch = input.unsqueeze(0) if input.ndim == 3 else input
        out = F.instance_norm(
            batch, self.running_mean, self.running_var, self.weight, self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0, self.eps,
        )
        return out.squeeze(0) if input.ndim == 3 else out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")
