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
from .. import dtypes
from . import functional as F
from .linear import check_positive_int, new_parameter, reset_weight_and_bias
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate")


def _pair(owner, name, value, minimum):
    """An int or a pair of ints, each >= minimum, as a pair."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise ValueError(f"{owner}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value!r}")
    return pair


class _ConvNd(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        check_positive_int(owner, "groups", groups)
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
        self.kernel_size = _pair(owner, "kernel_size", kernel_size, 1)
        self.stride = _pair(owner, "stride", stride, 1)
        self.dilation = _pair(owner, "dilation", dilation, 1)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{owner}: padding string must be 'valid' or 'same', got {padding!r}")
            if padding == "same" and (transposed or self.stride != (1, 1)):
                raise ValueError(f"{owner}: padding='same' is only supported with stride 1")
            self.padding = padding
        else:
            self.padding = _pair(owner, "padding", padding, 0)
        self.output_padding = _pair(owner, "output_padding", output_padding, 0)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.transposed = transposed
        self.groups = groups
        self.padding_mode = padding_mode
        if dtype is not None and not dtypes.is_floating(dtypes.resolve(dtype)):
            raise TypeError(f"{owner}: dtype must be floating point, got {dtype}")
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

    def _explicit_padding(self):
        """(top, bottom, left, right) amounts that the padding setting means."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            amounts = []
            for d, k in zip(self.dilation, self.kernel_size):
                total = d * (k - 1)
                amounts += [total // 2, total - total // 2]
            return tuple(amounts)
        ph, pw = self.padding
        return (ph, ph, pw, pw)

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        top, bottom, left, right = self._explicit_padding()
        if self.padding_mode == "zeros" and top == bottom and left == right:
            padding = (top, left)
        else:
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            input = F.pad(input, (left, right, top, bottom), mode=mode)
            padding = (0, 0)
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)


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
