"""EfficientNet (Tan and Le 2019, "EfficientNet: rethinking model scaling for
convolutional neural networks"): efficientnet_b0 ... efficientnet_b7 as torchvision
builds them.

Idea: a network found by architecture search (B0, built of MobileNetV2's inverted
residuals with squeeze-and-excitation and SiLU, "MBConv") is scaled up in depth, width
and input resolution TOGETHER, by one compound coefficient phi:

    depth      d = alpha ** phi      alpha = 1.2
    width      w = beta  ** phi      beta  = 1.1
    resolution r = gamma ** phi      gamma = 1.15
    subject to alpha * beta**2 * gamma**2 ~= 2    (FLOPs grow as d w^2 r^2: x2 per unit phi)

Section 3.3 of the paper; alpha, beta, gamma come from a small grid search on B0.
The released B1-B7 (the official repository's ``efficientnet_params``, which torchvision
uses and so do we, VARIANTS below) follow the rule rounded to one decimal for B1-B3
(phi = 0.5, 1, 2: ``compound_coefficients``) and were set by hand beyond it; the tests
show where they agree. From a variant's (w, d), everything else is computed:

    channels of a stage  make_divisible(c * w, 8)        (MobileNetV2's rounding)
    layers of a stage    ceil(n * d)
    head channels        4 * the last stage's channels
    dropout (classifier) 0.2 + 0.1 * (index // 2)       (0.2, 0.2, 0.3, 0.3, ... 0.5)

B0 (Table 1 of the paper; input 224x224; each MBConv row: expansion t, kernel k,
stride s of its first layer, input and output channels, layers n):

    stage  operator            t  k  s   in -> out   n   resolution
    0      conv 3x3, BN, SiLU  -  3  2    3 ->  32   1   224 -> 112
    1      MBConv1             1  3  1   32 ->  16   1   112
    2      MBConv6             6  3  2   16 ->  24   2   112 -> 56
    3      MBConv6             6  5  2   24 ->  40   2    56 -> 28
    4      MBConv6             6  3  2   40 ->  80   3    28 -> 14
    5      MBConv6             6  5  1   80 -> 112   3    14
    6      MBConv6             6  5  2  112 -> 192   4    14 -> 7
    7      MBConv6             6  3  1  192 -> 320   1     7
    8      conv 1x1, BN, SiLU  -  1  1  320 -> 1280  1     7
           avgpool, dropout, Linear 1280 -> classes

MBConv (t, k): 1x1 expansion to t * in channels (BN, SiLU; left out when t = 1), k x k
depthwise convolution with the stride (BN, SiLU), squeeze-and-excitation (squeeze to
in / 4 channels, SiLU, sigmoid gate), 1x1 projection (BN, no activation); when the
stride is 1 and in == out, ``x + StochasticDepth(block(x))``. Stochastic depth (Huang
et al. 2016, "row" mode: per sample) rises linearly over the blocks: block i of the B
blocks of the network is dropped with probability 0.2 * i / B.

BatchNorm settings as torchvision: eps 1e-5 and momentum 0.1 for B0-B4, eps 1e-3 and
momentum 0.01 (TensorFlow's 0.99 decay) for B5-B7, the variants torchvision ported
from the TensorFlow weights.

    name             w    d    resolution  dropout  params (1000 classes)
    efficientnet_b0  1.0  1.0  224         0.2       5,288,548
    efficientnet_b1  1.0  1.1  240         0.2       7,794,184
    efficientnet_b2  1.1  1.2  260         0.3       9,109,994
    efficientnet_b3  1.2  1.4  300         0.3      12,233,232
    efficientnet_b4  1.4  1.8  380         0.4      19,341,616
    efficientnet_b5  1.6  2.2  456         0.4      30,389,784
    efficientnet_b6  1.8  2.6  528         0.5      43,040,704
    efficientnet_b7  2.0  3.1  600         0.5      66,347,960

(``print_variant_table()`` prints the per-stage channels and layers of every variant,
computed from these coefficients.)

Module and state_dict names are torchvision's: ``features.0`` the stem, ``features.1``
... ``features.7`` the stages (``features.2.0.block.0.0.weight`` the expansion conv of
the first block of stage 2, ``.block.2.fc1`` its squeeze-and-excitation), ``features.8``
the head convolution, ``classifier.1`` the Linear. Initialization as torchvision:
kaiming_normal_ (fan_out) convolutions with zero biases, BN weight 1 and bias 0, Linear
weight U(-1/sqrt(classes), 1/sqrt(classes)) and bias 0. The input resolution is only a
recommendation: every variant runs at any size (32x32 included).
"""
import copy
import math
from functools import partial

from .. import nn
from .blocks import Conv2dNormActivation
from .mobilenetv2 import make_divisible
from .registry import check_no_weights, register_model
from .weight_init import init_resnet_

ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15  # depth, width, resolution bases (section 3.3)


def compound_coefficients(phi, base_resolution=224):
    """(width, depth, resolution) of the compound-scaling rule for coefficient phi,
    unrounded: (beta^phi, alpha^phi, base_resolution * gamma^phi)."""
    return BETA**phi, ALPHA**phi, base_resolution * GAMMA**phi


# The released coefficients of B0-B7: (width w, depth d, resolution); see above.
VARIANTS = {
    "efficientnet_b0": (1.0, 1.0, 224),
    "efficientnet_b1": (1.0, 1.1, 240),
    "efficientnet_b2": (1.1, 1.2, 260),
    "efficientnet_b3": (1.2, 1.4, 300),
    "efficientnet_b4": (1.4, 1.8, 380),
    "efficientnet_b5": (1.6, 2.2, 456),
    "efficientnet_b6": (1.8, 2.6, 528),
    "efficientnet_b7": (2.0, 3.1, 600),
}


def variant_dropout(name):
    """0.2 for B0 and B1, 0.3 for B2 and B3, 0.4 for B4 and B5, 0.5 for B6 and B7."""
    return (2 + list(VARIANTS).index(name) // 2) / 10


# B0: expansion t, kernel k, stride s, input channels, output channels, layers n
B0_STAGES = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


class MBConvConfig:
    """One stage of MBConv blocks, scaled by width_mult and depth_mult (torchvision's
    MBConvConfig: its fields, adjust_channels and adjust_depth)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                 width_mult=1.0, depth_mult=1.0, block=None):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.num_layers = self.adjust_depth(num_layers, depth_mult)
        self.block = block or MBConv

    @staticmethod
    def adjust_channels(channels, width_mult, min_value=None):
        return make_divisible(channels * width_mult, 8, min_value)

    @staticmethod
    def adjust_depth(num_layers, depth_mult):
        return int(math.ceil(num_layers * depth_mult))

    def __repr__(self):
        return (f"MBConvConfig(expand_ratio={self.expand_ratio}, kernel={self.kernel}, "
                f"stride={self.stride}, input_channels={self.input_channels}, "
                f"out_channels={self.out_channels}, num_layers={self.num_layers})")


class MBConv(nn.Module):
    """Expansion 1x1 -> depthwise k x k -> squeeze-and-excitation -> projection 1x1,
    with a stochastic-depth residual when the shape is kept (see the module docstring)."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer, se_layer=nn.SqueezeExcitation):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError(f"MBConv: stride must be 1 or 2, got {cnf.stride!r}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels

        layers = []
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded_channels, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded_channels, expanded_channels, kernel_size=cnf.kernel,
                                           stride=cnf.stride, groups=expanded_channels,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(se_layer(expanded_channels, squeeze_channels, activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded_channels, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = nn.StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):  # noqa: A002 - torchvision's argument name
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + input
        return result


class EfficientNet(nn.Module):
    """torchvision's EfficientNet (V1) from a list of MBConvConfig stages."""

    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2, num_classes=1000,
                 norm_layer=None, last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("inverted_residual_setting: expected a non-empty list of MBConvConfig")
        if not all(isinstance(cnf, MBConvConfig) for cnf in inverted_residual_setting):
            raise TypeError("inverted_residual_setting: expected a list of MBConvConfig")
        norm_layer = norm_layer or nn.BatchNorm2d

        first_channels = inverted_residual_setting[0].input_channels
        layers = [Conv2dNormActivation(3, first_channels, kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.SiLU)]
        total_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # the repeats keep the shape
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                # stochastic depth rises linearly from 0 (first block) towards the maximum
                sd_prob = stochastic_depth_prob * float(block_id) / total_blocks
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))

        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))

        # torchvision's: He (fan_out) convolutions with zero biases, norms at 1 and 0 (as
        # its ResNets), then the classifier's own rule
        init_resnet_(self)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                init_range = 1.0 / math.sqrt(module.out_features)
                nn.init.uniform_(module.weight, -init_range, init_range)
                nn.init.zeros_(module.bias)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x).flatten(1)
        return self.classifier(x)


def efficientnet_stages(width_mult, depth_mult):
    """B0's stages scaled by (width_mult, depth_mult)."""
    return [MBConvConfig(*row, width_mult=width_mult, depth_mult=depth_mult) for row in B0_STAGES]


def _efficientnet(name, weights, kwargs):
    check_no_weights(weights)
    width_mult, depth_mult, _ = VARIANTS[name]
    dropout = kwargs.pop("dropout", variant_dropout(name))
    if name in ("efficientnet_b5", "efficientnet_b6", "efficientnet_b7"):
        kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))
    return EfficientNet(efficientnet_stages(width_mult, depth_mult), dropout, **kwargs)


@register_model
def efficientnet_b0(*, weights=None, progress=True, **kwargs):
    """EfficientNet-B0 (w 1.0, d 1.0, 224x224, dropout 0.2): 5,288,548 parameters."""
    return _efficientnet("efficientnet_b0", weights, kwargs)


@register_model
def efficientnet_b1(*, weights=None, progress=True, **kwargs):
    """EfficientNet-B1 (w 1.0, d 1.1, 240x240, dropout 0.2): 7,794,184 parameters."""
    return _efficientnet("efficientnet_b1", weights, kwargs)


@register_model
def efficientnet_b2(*, weights=None, progress=True, **kwargs):
    """EfficientNet-B2 (w 1.1, d 1.2, 260x260, dropout 0.3): 9,109,994 parameters."""
    return _efficientnet("efficientnet_b2", weights, kwargs)


@register_model
def efficientnet_b3(*, weights=None, progress=True, **kwargs):
    """EfficientNet-B3 (w 1.2, d 1.4, 300x300, dropout 0.3): 12,233,232 parameters."""
    return _efficientnet("efficientnet_b3", weights, kwargs)


@register_model
def efficientnet_b4(*, weights=None, progress=True, **kwargs):
    """EfficientNet-B4 (w 1.4, d 1.8, 380x380, dropout 0.4): 19,341,616 parameters."""
    return _efficientnet("efficientnet_b4", weights, kwargs)


@register_model
def efficientnet_b5(*, weights=None, progress=True, **kwargs):
    """EfficientNet-B5 (w 1.6, d 2.2, 456x456, dropout 0.4; BN eps 1e-3, momentum 0.01):
    30,389,784 parameters."""
    return _efficientnet("efficientnet_b5", weights, kwargs)


@register_model
def efficientnet_b6(*, weights=None, progress=True, **kwargs):
    """EfficientNet-B6 (w 1.8, d 2.6, 528x528, dropout 0.5; BN eps 1e-3, momentum 0.01):
    43,040,704 parameters."""
    return _efficientnet("efficientnet_b6", weights, kwargs)


@register_model
def efficientnet_b7(*, weights=None, progress=True, **kwargs):
    """EfficientNet-B7 (w 2.0, d 3.1, 600x600, dropout 0.5; BN eps 1e-3, momentum 0.01):
    66,347,960 parameters."""
    return _efficientnet("efficientnet_b7", weights, kwargs)


def print_variant_table():
    """Per variant: its coefficients, then each stage's (channels, layers) computed from
    them, and the parameter count of the built network."""
    for name, (width, depth, resolution) in VARIANTS.items():
        stages = efficientnet_stages(width, depth)
        layout = " ".join(f"{cnf.out_channels}x{cnf.num_layers}" for cnf in stages)
        params = sum(p.numel() for p in _efficientnet(name, None, {}).parameters())
        print(f"{name}  w {width}  d {depth}  {resolution}px  dropout {variant_dropout(name):.1f}  "
              f"stem {stages[0].input_channels}  stages (channels x layers) {layout}  "
              f"head {4 * stages[-1].out_channels}  params {params:,}")
