"""MobileNetV2 (Sandler, Howard, Zhu, Zhmoginov and Chen 2018, "MobileNetV2: inverted
residuals and linear bottlenecks"): ``mobilenet_v2`` as torchvision builds it.

Idea: the block is an *inverted residual*. A 1x1 convolution expands the C input
channels t times (t = 6), a 3x3 depthwise convolution (groups = channels: one filter
per channel, 9 multiply-adds per output instead of 9 * C) filters them spatially, and a
1x1 convolution projects back down to a narrow output. The projection has no ReLU (a
*linear bottleneck*: ReLU in a low-dimensional space destroys information), and the
shortcut joins the narrow ends, where the tensors are small. ReLU6 (min(max(x, 0), 6))
is the activation.

Table 2 of the paper (input 224x224; t expansion, c output channels, n repeats, s
stride of the first repeat):

    input        operator               t     c    n   s
    224^2 x 3    conv2d 3x3             -    32    1   2
    112^2 x 32   bottleneck             1    16    1   1
    112^2 x 16   bottleneck             6    24    2   2
    56^2 x 24    bottleneck             6    32    3   2
    28^2 x 32    bottleneck             6    64    4   2
    14^2 x 64    bottleneck             6    96    3   1
    14^2 x 96    bottleneck             6   160    3   2
    7^2 x 160    bottleneck             6   320    1   1
    7^2 x 320    conv2d 1x1             -  1280    1   1
    7^2 x 1280   avgpool 7x7            -     -    1   -
    1 x 1280     dropout 0.2, linear    -     k    -   -

``width_mult`` scales every channel count c (the last 1280 only upwards), each
rounded to a multiple of ``round_nearest`` = 8 and never more than 10% below c *
width_mult (``make_divisible``). mobilenet_v2() has 3,504,872 parameters at 1000
classes.

Module and state_dict names are torchvision's: ``features.0`` is the stem
Conv2dNormActivation (features.0.0 conv, features.0.1 BN), ``features.1`` ...
``features.17`` the InvertedResiduals (``features.2.conv.0.0.weight`` the expansion
conv of the first stride-2 block, ``features.2.conv.2.weight`` its projection,
``features.2.conv.3`` its BN), ``features.18`` the last 1x1 conv, ``classifier.1`` the
Linear. Initialization as torchvision: kaiming_normal_ (fan_out) convolutions with zero
biases, BN weight 1 and bias 0, Linear weight N(0, 0.01^2) and bias 0.
"""
from .. import nn
from .blocks import Conv2dNormActivation
from .registry import check_no_weights, register_model
from .weight_init import init_resnet_


def make_divisible(value, divisor, min_value=None):
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``,
    default ``divisor``), one multiple more when rounding lost over 10% of it (the
    TensorFlow MobileNet rule that torchvision follows)."""
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class InvertedResidual(nn.Module):
    """1x1 expand (when expand_ratio != 1) -> 3x3 depthwise with the stride -> 1x1
    linear projection -> BN; ``x + block(x)`` when stride 1 and the channels agree."""

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride: expected 1 or 2, got {stride!r}")
        norm_layer = norm_layer or nn.BatchNorm2d
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup

        layers = []
        if expand_ratio != 1:
            layers.append(
                Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer,
                                     activation_layer=nn.ReLU6)
            )
        layers += [
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


# t (expansion), c (output channels), n (repeats), s (stride of the first repeat)
INVERTED_RESIDUAL_SETTING = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
]


class MobileNetV2(nn.Module):
    """torchvision's MobileNetV2 (see the module docstring for the table)."""

    def __init__(
        self,
        num_classes=1000,
        width_mult=1.0,
        inverted_residual_setting=None,
        round_nearest=8,
        block=None,
        norm_layer=None,
        dropout=0.2,
    ):
        super().__init__()
        block = block or InvertedResidual
        norm_layer = norm_layer or nn.BatchNorm2d
        if inverted_residual_setting is None:
            inverted_residual_setting = INVERTED_RESIDUAL_SETTING
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError(
                "inverted_residual_setting: expected a non-empty list of [t, c, n, s] rows, "
                f"got {inverted_residual_setting!r}"
            )
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)

        features = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                         activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(block(input_channel, output_channel, stride, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

        # torchvision's: He (fan_out) convolutions with zero biases, norms at 1 and 0 (as
        # its ResNets), then the classifier's own rule
        init_resnet_(self)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
        return self.classifier(x)


@register_model
def mobilenet_v2(*, weights=None, progress=True, **kwargs):
    """MobileNetV2 (``width_mult``=1.0: 3,504,872 parameters at 1000 classes)."""
    check_no_weights(weights)
    return MobileNetV2(**kwargs)
