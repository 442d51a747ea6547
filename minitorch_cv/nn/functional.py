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
