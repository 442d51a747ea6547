"""Dropout (inverted): zero each element (or each whole channel) with probability p
and scale the survivors by 1 / (1 - p), so the expected value is unchanged and eval
mode is the identity.

    out = x * noise,   noise = keep / (1 - p),   keep ~ Bernoulli(1 - p)
    backward: dx = dy * noise (the same mask, the same scale)

``dropout`` draws one keep per element; ``dropout2d`` one per (sample, channel) of an
(N, C, H, W) input, shape (N, C, 1, 1), broadcast over H and W (PyTorch's feature
dropout: for any input of 2 or more dims the noise has shape (N, C, 1, ..., 1)).
``stochastic_depth`` (Huang et al. 2016, torchvision.ops semantics) drops a whole
residual branch: one keep per sample (mode "row", noise (N, 1, ..., 1)) or one for the
whole batch (mode "batch", noise (1, ..., 1)). p = 1
zeros everything (the noise is all zero instead of 0/0). The keep mask comes from
``minitorch_cv.random.generator(device)``, so ``manual_seed`` makes it reproducible.

Mask generation is plain array code (uniform draws compared with p, in the input's
dtype); the only full-size arrays are the noise (kept for backward, and by
``dropout2d`` only (N, C)-sized) and the output.
"""
import numbers
import warnings

from .. import checks, dtypes
from ..autograd import Function, is_grad_enabled
from ..devices import namespace
from ..random import generator
from ..tensor import Tensor


class Dropout(Function):
    """out = x * noise; the noise broadcasts over x (it is smaller for dropout2d)."""

    @staticmethod
    def forward(ctx, x, noise):
        ctx.save_for_backward(noise)
        return x * noise

    @staticmethod
    def backward(ctx, grad):
        (noise,) = ctx.saved_tensors
        return grad * noise, None


def _noise(x, p, shape):
    """keep / (1 - p) with keep ~ Bernoulli(1 - p), drawn in x's dtype on x's device."""
    xp = namespace(x.array)
    if p == 1:
        return xp.zeros(shape, dtype=x.dtype)
    # uniform in [0, 1) >= p has probability 1 - p; p = 0 keeps everything. The
    # generators draw float32 or float64 only (float16 inputs use float32 draws).
    draw_dtype = x.dtype if x.dtype in checks.FLOAT_DTYPES else dtypes.float32
    uniform = generator(x.device).random(shape, dtype=draw_dtype)
    noise = (uniform >= p).astype(x.dtype)
    noise *= x.dtype.type(1 / (1 - p))
    return noise


def _apply(x, p, training, inplace, noise_shape):
    if not training or p == 0:
        return x
    noise = _noise(x, p, noise_shape)
    if inplace and not (x.requires_grad and is_grad_enabled()):
        # Outside any graph the input's own array can be overwritten. Inside a graph
        # the product is made out of place: minitorch_cv has no in-place autograd.
        x.array *= noise
        x._bump_version()
        return x
    return Dropout.apply(x, noise)


def _check(name, x, p):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
    if not dtypes.is_floating(x.dtype):
        raise TypeError(f"{name}: input must be floating point, got dtype {x.dtype}")
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability p has to be between 0 and 1, but got {p!r}")
    return float(p)


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002 - PyTorch's name
    """Zero each element with probability p, scale the rest by 1 / (1 - p)."""
    p = _check("dropout", input, p)
    return _apply(input, p, training, inplace, input.shape)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels: one draw per (n, c) of (N, C, H, W), PyTorch's rules:
    a 3-D input is taken as (N, C, L) (channel-wise 1-D dropout, with PyTorch's
    warning), other ranks warn as deprecated and 1-D raises."""
    p = _check("dropout2d", input, p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: received a {input.ndim}-D input, which is deprecated (as in "
            "PyTorch); dropout2d expects (N, C, H, W) or (C, H, W) inputs",
            UserWarning,
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: received a 3-D input and, as PyTorch does, applies channel-wise "
            "1-D dropout to it as (N, C, L)",
            UserWarning,
            stacklevel=2,
        )
    if input.ndim < 2:
        raise ValueError(f"dropout2d: feature dropout requires at least 2 dims, got shape {input.shape}")
    noise_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _apply(input, p, training, inplace, noise_shape)


def stochastic_depth(input, p, mode, training=True):  # noqa: A002 - torchvision's name
    """torchvision.ops.stochastic_depth: zero the input (a residual branch) with
    probability p and scale what survives by 1 / (1 - p).

        mode "row":   out[n] = x[n] * keep[n] / (1 - p),  keep[n] ~ Bernoulli(1 - p)
        mode "batch": out    = x * keep / (1 - p),        one keep for the whole batch

    The identity when not ``training`` or when p = 0; p = 1 zeros everything.
    """
    p = _check("stochastic_depth", input, p)
    if mode not in ("batch", "row"):
        raise ValueError(f"stochastic_depth: mode has to be either 'batch' or 'row', but got {mode!r}")
    if mode == "row" and input.ndim == 0:
        raise ValueError("stochastic_depth: mode 'row' needs an input with a batch dimension, got a 0-d tensor")
    if mode == "row":
        noise_shape = (input.shape[0],) + (1,) * (input.ndim - 1)
    else:
        noise_shape = (1,) * input.ndim
    return _apply(input, p, training, False, noise_shape)
