"""``minitorch_cv.nn.functional``: the differentiable ops under PyTorch's names."""
from ..ops import (  # noqa: F401
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    linear,
    pad,
    relu,
    relu6,
    sigmoid,
    silu,
    softplus,
    tanh,
)
from ..ops.conv import conv2d  # noqa: F401
from ..ops.conv_transpose import conv_transpose2d  # noqa: F401
