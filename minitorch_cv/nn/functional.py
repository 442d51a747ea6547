"""``minitorch_cv.nn.functional``: the differentiable ops under PyTorch's names."""
from ..ops import (  # noqa: F401
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    dropout2d,
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    pad,
    relu,
    relu6,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from ..ops.conv import conv2d  # noqa: F401
from ..ops.conv_transpose import conv_transpose2d  # noqa: F401
