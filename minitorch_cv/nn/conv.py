"""Conv2d and ConvTranspose2d layers with PyTorch's signatures and initialization.

Weights: Conv2d (K, C/G, KH, KW); ConvTranspose2d (C, K/G, KH, KW), as in PyTorch.
Default init: kaiming_uniform_(a=sqrt(5)) on the weight, i.e. U(-1/sqrt(fan_in),
1/sqrt(fan_in)) with fan_in = weight.shape[1] * KH * KW, and the bias uniform in the
same bound.

``padding`` may be an int, a pair, "valid" (no padding) or "same" (Conv2d, stride 1:
the output has the input's size; an odd total padding puts the extra row/column at the
bottom/right, as PyTorch does). ``padding_mode`` "zeros" pads inside the convolution;
"reflect" and "replicate" pad the input first with F.pad; "circular" is not supported.
"""
from .. import checks
from . import functional as F
from .linear import new_parameter, reset_weight_and_bias
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate")


class _ConvNd(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        owner = type(self).__name__
        checks.integer(owner, "in_channels", in_channels, minimum=1)
        checks.integer(owner, "out_channels", out_channels, minimum=1)
        checks.integer(owner, "groups", groups, minimum=1)
        if in_channels % groups != 0:
            raise ValueError(
                f"{owner}: in_channels ({in_channels}) must be divisible by groups ({groups})"
            )
        if out_channels % groups != 0:
            raise ValueError(
                f"{owner}: out_channels ({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{owner}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r} "
                "('circular' is not supported)"
            )
        self.kernel_size = checks.pair(owner, "kernel_size", kernel_size, minimum=1)
        self.stride = checks.pair(owner, "stride", stride, minimum=1)
        self.dilation = checks.pair(owner, "dilation", dilation, minimum=1)
        # Checked here; F.conv2d (or forward, for the other padding modes) interprets it.
        checks.conv_padding(owner, padding, self.kernel_size, self.stride, self.dilation)
        self.padding = padding if isinstance(padding, str) else checks.pair(owner, "padding", padding)
        self.output_padding = checks.pair(owner, "output_padding", output_padding, minimum=0)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.transposed = transposed
        self.groups = groups
        self.padding_mode = padding_mode
        if transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = new_parameter(shape, device, dtype)
        if bias:
            self.bias = new_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """out[n, k] = bias[k] + sum over the C/G channels of group(k) of weight[k] * x,
    cross-correlated with stride, padding and dilation (see F.conv2d)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        if self.padding_mode == "zeros":  # F.conv2d pads with zeros itself, "same" included
            return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups)
        top, bottom, left, right = checks.conv_padding(
            "Conv2d", self.padding, self.kernel_size, self.stride, self.dilation
        )
        input = F.pad(input, (left, right, top, bottom), mode=self.padding_mode)
        return F.conv2d(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """The adjoint (gradient) of Conv2d with the same geometry: every input pixel
    scatters weight[c] * x[n, c, h, w] into a KH x KW output window at
    (h * SH - PH, w * SW - PW). Output size:
    OH = (H - 1) * SH - 2 PH + DH (KH - 1) + output_padding_h + 1."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for ConvTranspose2d, got {padding_mode!r}'
            )
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)
        for o, s, d in zip(self.output_padding, self.stride, self.dilation):
            if o >= s and o >= d:
                raise ValueError(
                    f"ConvTranspose2d: output_padding {self.output_padding} must be smaller "
                    f"than either stride {self.stride} or dilation {self.dilation}"
                )

    def _output_padding(self, input, output_size):  # noqa: A002
        """The output_padding that makes the output exactly ``output_size`` (H, W)."""
        if output_size is None:
            return self.output_padding
        output_size = tuple(output_size)[-2:]
        if len(output_size) != 2:
            raise ValueError(f"ConvTranspose2d: output_size must have 2 entries, got {output_size}")
        padding = []
        for i in range(2):
            size = input.shape[-2 + i]
            smallest = ((size - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            largest = smallest + self.stride[i] - 1
            if not smallest <= output_size[i] <= largest:
                raise ValueError(
                    f"ConvTranspose2d: requested an output size of {output_size}, but valid "
                    f"sizes for dim {i} range from {smallest} to {largest} (for an input of "
                    f"{tuple(input.shape[-2:])})"
                )
            padding.append(output_size[i] - smallest)
        return tuple(padding)

    def forward(self, input, output_size=None):  # noqa: A002
        if input.ndim not in (3, 4):
            raise ValueError(
                "ConvTranspose2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                f"got shape {input.shape}"
            )
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)
