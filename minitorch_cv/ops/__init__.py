"""Differentiable operations, one family per file.

Each file holds Function classes (forward and backward side by side) and the
lowercase functional wrappers with PyTorch's signatures, which validate arguments
before anything is computed. Builtin names (sum, max, min, pow, abs, all, any) are
given their PyTorch spelling only here, so no op file shadows a builtin.
"""
from . import indexing, inplace
from .activation import (
    elu,
    elu_,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    prelu,
    relu,
    relu6,
    relu_,
    silu,
    softplus,
)
from .arithmetic import add, div, mul, neg, power, sub
from .comparison import (
    allclose,
    eq,
    ge,
    gt,
    isclose,
    le,
    logical_and,
    logical_not,
    logical_or,
    lt,
    ne,
)
from .conversion import cast, clone, to_device
from .deform_conv import deform_conv2d
from .dropout import dropout, dropout2d, stochastic_depth
from .elementwise import (
    absolute,
    clamp,
    clamp_,
    ceil,
    exp,
    floor,
    log,
    masked_fill,
    masked_fill_,
    maximum,
    minimum,
    round_to_nearest,
    sigmoid,
    sign,
    sqrt,
    tanh,
    where,
)
from .einsum import einsum
from .embedding import embedding, one_hot
from .gather import gather, index_select, scatter, scatter_, scatter_add, scatter_add_
from .indexing import getitem, nonzero
from .linear import linear
from .loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss, nll_loss
from .matmul import bmm, matmul, mm
from .norm import norm, normalize
from .pad import pad
from .reduction import (
    MaxMin,
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    mean,
    reduce_all,
    reduce_any,
    reduce_max,
    reduce_min,
    reduce_sum,
    std,
    var,
)
from .rearrange import (
    flip,
    meshgrid,
    pixel_shuffle,
    pixel_unshuffle,
    repeat,
    repeat_interleave,
    roll,
)
from .scan import cumsum
from .shape import (
    cat,
    chunk,
    concat,
    contiguous,
    expand,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    t,
    transpose,
    unbind,
    unsqueeze,
    view,
)
from .sort import argsort, sort, topk
from .softmax import log_softmax, softmax

# PyTorch's names for the ops whose natural names are Python builtins.
sum = reduce_sum  # noqa: A001
max = reduce_max  # noqa: A001
min = reduce_min  # noqa: A001
all = reduce_all  # noqa: A001
any = reduce_any  # noqa: A001
pow = power  # noqa: A001
abs = absolute  # noqa: A001
round = round_to_nearest  # noqa: A001
clip = clamp
