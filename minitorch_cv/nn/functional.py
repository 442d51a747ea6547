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
from ..ops.attention import scaled_dot_product_attention  # noqa: F401,E402
