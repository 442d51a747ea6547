"""minitorch_cv: a small, readable deep-learning framework for computer vision.

    import minitorch_cv as mt
    x = mt.randn(3, 4, requires_grad=True)
    (x * x).sum().backward()
    x.grad                      # 2 * x

Layers, from the bottom: ``kernels`` (array-in, array-out NumPy/Numba/CUDA kernels),
``tensor`` + ``autograd`` (the graph), ``ops`` (differentiable Functions), then
``nn``, ``optim``, ``data``, ``models`` and ``metrics``.
"""
from . import allocator, backend, cuda, devices, dtypes
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device
from .dtypes import (
    bool_,
    double,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .ops import (
    abs,
    absolute,
    add,
    all,
    allclose,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    bmm,
    cat,
    ceil,
    chunk,
    clamp,
    clamp_,
    clip,
    clone,
    concat,
    cumsum,
    div,
    einsum,
    eq,
    exp,
    flatten,
    flip,
    floor,
    gather,
    ge,
    gt,
    index_select,
    isclose,
    le,
    log,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logsumexp,
    lt,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    meshgrid,
    min,
    minimum,
    mm,
    mul,
    ne,
    neg,
    nonzero,
    norm,
    permute,
    pow,
    relu,
    relu_,
    repeat_interleave,
    reshape,
    roll,
    round,
    scatter,
    scatter_add,
    sigmoid,
    sign,
    softmax,
    sort,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    t,
    tanh,
    topk,
    transpose,
    unbind,
    unsqueeze,
    var,
    where,
)
from .random import get_rng_state, manual_seed, set_rng_state
from .serialization import load, save
from .size import Size
from .tensor import Tensor, is_tensor, numel
from .threads import get_num_threads, set_num_threads

# PyTorch's spellings; this file holds only imports, so shadowing the builtins is harmless.
bool = bool_  # noqa: A001
float = float32  # noqa: A001
int = int32  # noqa: A001

# The user-facing subpackages, imported last: they build on everything above.
from . import gradcheck, nn, optim, data, models, utils, metrics  # noqa: E402,I001

__version__ = "0.1.0"

# Before any kernel runs: idle Numba workers must sleep, not spin (see threads.py), and
# freed arrays are kept for the next ones (see allocator.py).
threads.start_numba_workers_passive()
allocator.keep_freed_memory()
