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
from .. import checks
from ..ops.deform_conv import deform_conv2d
from . import init
from .conv import Conv2d, _ConvNd


class DeformConv2d(_ConvNd):
    """y = deform_conv2d(input, offset, weight, bias, stride, padding, dilation, mask):
    torchvision.ops.DeformConv2d. forward(input, offset, mask=None) with offset
    (N, 2*OG*KH*KW, OH, OW) and mask (N, OG*KH*KW, OH, OW). The parameters, their
    checks, initialisation and repr are Conv2d's (padding: an int or a pair only)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a pair, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, "zeros", device, dtype)

    def forward(self, input, offset, mask=None):  # noqa: A002 - torchvision's argument name
        return deform_conv2d(input, offset, self.weight, self.bias, self.stride, self.padding,
                             self.dilation, mask=mask)


class ModulatedDeformConv2d(DeformConv2d):
    """DCNv2's layer: offsets and masks predicted from the input by ``conv_offset``
    (zero-initialised), then a modulated deformable convolution (see the module
    docstring). forward(input); offset_groups = OG."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, offset_groups=1, bias=True, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, device, dtype)
        checks.integer(type(self).__name__, "offset_groups", offset_groups, minimum=1)
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
