"""``conv1d``: a 1-D convolution is a 2-D one over an image one row high.

    y[n, k, ol] = bias[k] + sum over c in group(k), kw of w[k, c, kw] x[n, c, ol*S - P + kw*D]

(N, C, L) becomes (N, C, 1, L), the weight (K, C/G, KW) becomes (K, C/G, 1, KW), and
conv2d runs with stride (1, S), padding (0, P), dilation (1, D): its im2col, GEMM and
gradients (ops/conv.py) do all the work.
"""
import numbers

from ..tensor import Tensor
from .conv import conv2d


def _single(name, arg, value):
    """An int or a 1-element sequence of ints, as an int (PyTorch's _single)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: {arg} must be an int or a 1-tuple of ints, got {value!r}")
    return int(value)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D convolution of an (N, C, L) or unbatched (C, L) input with a (K, C/G, KW)
    weight; padding may be an int, "valid" or "same"."""
    name = "conv1d"
    for arg, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {arg} must be a Tensor, got {type(value).__name__}")
    if input.ndim not in (2, 3):
        raise ValueError(
            f"{name}: input must be 3-D (N, C, L) or 2-D unbatched (C, L), got shape {input.shape}"
        )
    if weight.ndim != 3:
        raise ValueError(f"{name}: weight must be 3-D (K, C/groups, KW), got shape {weight.shape}")
    S = _single(name, "stride", stride)
    D = _single(name, "dilation", dilation)
    P = padding if isinstance(padding, str) else (0, _single(name, "padding", padding))
    y = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, S), P, (1, D), groups)
    return y.squeeze(-2)
