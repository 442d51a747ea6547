"""Deformable convolution layers: DeformConv2d (torchvision.ops') and ModulatedDeformConv2d,
the DCNv2 layer that predicts its own offsets and mask.

DeformConv2d takes the offsets (and the optional mask) as forward arguments, as
torchvision.ops.DeformConv2d does: weight (K, C/G, KH, KW), bias (K,), the same default
initialisation as Conv2d (kaiming_uniform_(a=sqrt(5)), bias uniform in +-1/sqrt(fan_in)).

ModulatedDeformConv2d (Zhu et al. 2019, "Deformable ConvNets v2", section 3.1) computes
them from its input with a plain convolution ``conv_offset`` of the same kernel size,
stride, padding and dilation (so its output has the layer's (OH, OW)), with 3*OG*KH*KW
output channels:

    out    = conv_offset(input)
    offset = out[:, :2*OG*KH*KW]                (dh, dw) per tap per offset group
    mask   = sigmoid(out[:, 2*OG*KH*KW:])       one modulation scalar in (0, 1) per tap
    y      = deform_conv2d(input, offset, weight, bias, mask=mask)

``conv_offset`` starts at zero, as in the paper: offsets 0 and masks sigmoid(0) = 1/2, so
the layer starts as the regular convolution with half its weight (a BatchNorm after it,
as in a ResNet, takes the factor out). The paper trains conv_offset with a learning rate
0.1 times the base rate (an optimizer parameter group). Module and state_dict names
(weight, bias, conv_offset.weight, conv_offset.bias) are those of mmcv's
ModulatedDeformConv2dPack, whose channel split is the same.
"""
from ..ops.deform_conv import deform_conv2d
from . import init
from .conv import Conv2d, _pair
from .linear import check_positive_int, new_parameter, reset_weight_and_bias
from .module import Module


class DeformConv2d(Module):
    """y = deform_conv2d(input, offset, weight, bias, stride, padding, dilation, mask):
    torchvision.ops.DeformConv2d. forward(input, offset, mask=None) with offset
    (N, 2*OG*KH*KW, OH, OW) and mask (N, OG*KH*KW, OH, OW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, device=None, dtype=None):
        super().__init__()
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        check_positive_int(owner, "groups", groups)
        if in_channels % groups != 0:
            raise ValueError(f"{owner}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{owner}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(owner, "kernel_size", kernel_size, 1)
        self.stride = _pair(owner, "stride", stride, 1)
        self.padding = _pair(owner, "padding", padding, 0)
        self.dilation = _pair(owner, "dilation", dilation, 1)
        self.groups = groups
        self.weight = new_parameter((out_channels, in_channels // groups) + self.kernel_size, device, dtype)
        if bias:
            self.bias = new_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input, offset, mask=None):  # noqa: A002 - torchvision's argument name
        return deform_conv2d(input, offset, self.weight, self.bias, self.stride, self.padding,
                             self.dilation, mask=mask)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class ModulatedDeformConv2d(DeformConv2d):
    """DCNv2's layer: offsets and masks predicted from the input by ``conv_offset``
    (zero-initialised), then a modulated deformable convolution (see the module
    docstring). forward(input); offset_groups = OG."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, offset_groups=1, bias=True, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, device, dtype)
        check_positive_int(type(self).__name__, "offset_groups", offset_groups)
        if in_channels % offset_groups != 0:
            raise ValueError(
                f"ModulatedDeformConv2d: in_channels ({in_channels}) must be divisible by "
                f"offset_groups ({offset_groups})"
            )
        self.offset_groups = offset_groups
        KH, KW = self.kernel_size
        self.conv_offset = Conv2d(in_channels, 3 * offset_groups * KH * KW, self.kernel_size,
                                  self.stride, self.padding, self.dilation, bias=True,
                                  device=device, dtype=dtype)
        self.reset_offset_predictor()

    def reset_parameters(self):
        super().reset_parameters()
        if "conv_offset" in self._modules:  # not yet built when DeformConv2d.__init__ calls this
            self.reset_offset_predictor()

    def reset_offset_predictor(self):
        """conv_offset = 0: offsets 0 and masks 1/2 whatever the input."""
        init.zeros_(self.conv_offset.weight)
        init.zeros_(self.conv_offset.bias)

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        out = self.conv_offset(input)
        taps = self.offset_groups * self.kernel_size[0] * self.kernel_size[1]
        offset = out[:, : 2 * taps]
        mask = out[:, 2 * taps :].sigmoid()
        return deform_conv2d(input, offset, self.weight, self.bias, self.stride, self.padding,
                             self.dilation, mask=mask)

    def extra_repr(self):
        text = super().extra_repr()
        if self.offset_groups != 1:
            text += f", offset_groups={self.offset_groups}"
        return text
