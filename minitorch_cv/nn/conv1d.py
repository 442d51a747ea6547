"""``Conv1d``: PyTorch's 1-D convolution layer (weight (K, C/G, KW), its default
initialization, "zeros"/"reflect"/"replicate" padding modes), on ``F.conv1d``."""
from . import functional as F
from .. import checks
from .linear import new_parameter, reset_weight_and_bias
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate")


def _single(value, name, minimum):
    """An int or a 1-tuple of ints, >= minimum, as a 1-tuple (PyTorch stores them so)."""
    single = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(single) != 1 or not isinstance(single[0], int) or isinstance(single[0], bool):
        raise ValueError(f"Conv1d: {name} must be an int or a 1-tuple of ints, got {value!r}")
    if single[0] < minimum:
        raise ValueError(f"Conv1d: {name} must be >= {minimum}, got {value!r}")
    return single


class Conv1d(Module):
    """out[n, k, l] = bias[k] + sum over the C/G channels c of group(k) and taps kw of
    weight[k, c, kw] * x[n, c, l*stride - padding + kw*dilation]."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):
            checks.integer("Conv1d", name, value, minimum=1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv1d: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"Conv1d: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r} "
                "('circular' is not supported)"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _single(kernel_size, "kernel_size", 1)
        self.stride = _single(stride, "stride", 1)
        self.dilation = _single(dilation, "dilation", 1)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv1d: padding string must be 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1,):
                raise ValueError("Conv1d: padding='same' is only supported with stride 1")
            self.padding = padding
        else:
            self.padding = _single(padding, "padding", 0)
        self.padding_mode = padding_mode
        self.weight = new_parameter((out_channels, in_channels // groups) + self.kernel_size,
                                    device, dtype)
        if bias:
            self.bias = new_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        if self.padding_mode == "zeros" or isinstance(self.padding, str):
            padding = self.padding if isinstance(self.padding, str) else self.padding[0]
            return F.conv1d(input, self.weight, self.bias, self.stride, padding,
                            self.dilation, self.groups)
        p = self.padding[0]
        padded = F.pad(input, (p, p), mode=self.padding_mode)
        return F.conv1d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,):
            text += f", padding={self.padding}"
        if self.dilation != (1,):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text
