"""``Linear`` (y = x W^T + b) and ``Identity``.

Default initialization, as in PyTorch: W ~ U(-1/sqrt(IN), 1/sqrt(IN)) (this is what
``kaiming_uniform_(W, a=sqrt(5))`` works out to) and b ~ U(-1/sqrt(IN), 1/sqrt(IN)).
"""
import math

from .. import checks, creation
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def new_parameter(shape, device=None, dtype=None):
    """An uninitialized (zero) Parameter of ``shape``; layers fill it in reset_parameters."""
    dtype = checks.floating_dtype("parameters", dtype)
    return Parameter(creation.empty(*shape, dtype=dtype, device=device))


def reset_weight_and_bias(weight, bias):
    """PyTorch's default for Linear and Conv layers: kaiming_uniform_(a=sqrt(5)) on the
    weight, and a bias uniform in +-1/sqrt(fan_in)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        return input


class Linear(Module):
    """Applies y = x W^T + b to the last dim of a (*, in_features) input."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        checks.integer("Linear", "in_features", in_features, minimum=1)
        checks.integer("Linear", "out_features", out_features, minimum=1)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = new_parameter((out_features, in_features), device, dtype)
        if bias:
            self.bias = new_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):  # noqa: A002
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
