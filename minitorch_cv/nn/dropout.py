"""Dropout layers: active in training mode, the identity in eval mode.

Dropout zeroes each element with probability p and scales the kept ones by 1/(1-p),
so the expected value is unchanged; Dropout2d zeroes whole channels (N, C) of an
(N, C, H, W) input; StochasticDepth (torchvision.ops) zeroes a whole residual branch,
per sample ("row") or for the whole batch ("batch"). The random draws come from the input device's generator.
"""
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    def forward(self, input):  # noqa: A002
        return F.dropout2d(input, self.p, self.training, self.inplace)


class StochasticDepth(Module):
    """torchvision.ops.StochasticDepth (Huang et al. 2016, "Deep networks with
    stochastic depth"): put it at the end of a residual branch, ``out = x +
    StochasticDepth(p, mode)(branch(x))``, and in training the branch is skipped with
    probability p (its survivors scaled by 1 / (1 - p)); in eval it is the identity.
    See ``F.stochastic_depth``."""

    def __init__(self, p, mode):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"StochasticDepth: drop probability p has to be between 0 and 1, but got {p!r}")
        if mode not in ("batch", "row"):
            raise ValueError(f"StochasticDepth: mode has to be either 'batch' or 'row', but got {mode!r}")
        self.p = p
        self.mode = mode

    def forward(self, input):  # noqa: A002
        return F.stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self):
        # torchvision's repr (no quotes around the mode)
        return f"{type(self).__name__}(p={self.p}, mode={self.mode})"
