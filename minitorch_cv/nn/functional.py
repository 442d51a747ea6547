"""``minitorch_cv.nn.functional``: the differentiable ops under PyTorch's names."""
from ..ops import (  # noqa: F401
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    dropout2d,
    elu,
    elu_,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    pad,
    prelu,
    relu,
    relu6,
    relu_,
    sigmoid,
    silu,
    softmax,
    softplus,
    stochastic_depth,
    tanh,
)
from ..ops.conv1d import conv1d  # noqa: F401
from ..ops.embedding import embedding, one_hot  # noqa: F401
from ..ops.fold import fold, unfold  # noqa: F401
from ..ops.grid_sample import affine_grid, grid_sample  # noqa: F401
from ..ops.instance_norm import instance_norm  # noqa: F401
from ..ops.loss_pointwise import binary_cross_entropy, kl_div, smooth_l1_loss  # noqa: F401
from ..ops.norm import normalize  # noqa: F401
from ..ops.rearrange import pixel_shuffle, pixel_unshuffle  # noqa: F401
from ..ops.adaptive_pool import adaptive_avg_pool2d, adaptive_max_pool2d  # noqa: F401
from ..ops.attention import scaled_dot_product_attention  # noqa: F401
from ..ops.batch_norm import batch_norm  # noqa: F401
from ..ops.conv import conv2d  # noqa: F401
from ..ops.conv_transpose import conv_transpose2d  # noqa: F401
from ..ops.group_norm import group_norm  # noqa: F401
from ..ops.layer_norm import layer_norm  # noqa: F401
from ..ops.local_response_norm import local_response_norm  # noqa: F401
from ..ops.pool import avg_pool2d, max_pool2d  # noqa: F401
from ..ops.resample import interpolate  # noqa: F401
from ..ops.unpool import max_unpool2d  # noqa: F401
