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
from ..ops.layer_norm import group_norm, layer_norm  # noqa: F401
from ..ops.local_response_norm import local_response_norm  # noqa: F401
from ..ops.batch_norm import batch_norm  # noqa: F401
