"""``minitorch_cv.nn.functional``: the differentiable ops under PyTorch's names."""
from ..ops import (  # noqa: F401
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    pad,
    relu,
    relu6,
    sigmoid,
    silu,
    softplus,
    tanh,
)
from ..ops.adaptive_pool import adaptive_avg_pool2d, adaptive_max_pool2d  # noqa: F401
from ..ops.pool import avg_pool2d, max_pool2d  # noqa: F401
from ..ops.resample import interpolate  # noqa: F401
from ..ops.unpool import max_unpool2d  # noqa: F401
