"""VGG, exactly as torchvision builds it.

Simonyan & Zisserman 2014, "Very deep convolutional networks for large-scale image
recognition".

Only 3x3 convolutions (stride 1, padding 1) and 2x2 max-pools: a stack of two 3x3
layers sees a 5x5 window and three see 7x7, with fewer parameters and more
non-linearities than one large filter, so depth (11 to 19 weight layers) is what grows.
The ``_bn`` variants (not in the paper) put a BatchNorm after every convolution.

    configuration (paper's table 1)   conv widths, M = max-pool 2x2/2        parameters
    A  vgg11     64 M 128 M 256 256 M 512 512 M 512 512 M                    132,863,336
    B  vgg13     64 64 M 128 128 M 256 256 M 512 512 M 512 512 M             133,047,848
    D  vgg16     64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M 138,357,544
    E  vgg19     64 64 M 128 128 M 256x4 M 512x4 M 512x4 M                   143,667,240
    (_bn adds 2 x the conv widths: vgg11_bn 132,868,840 ... vgg19_bn 143,678,248)

    features: [conv 3x3 -> (bn) -> relu] and max-pools as configured   (N, 512, H/32, W/32)
    avgpool: adaptive average pool to 7x7                               (N, 512, 7, 7)
    classifier: fc 25088 -> 4096, relu, dropout, fc 4096 -> 4096, relu, dropout,
                fc 4096 -> num_classes

The adaptive pool (torchvision's) makes any input of at least 32x32 work; at 224x224 it
is the identity, as in the paper. Initialization (``init_weights=True``, torchvision's):
convolutions He normal (fan_out, relu) with zero bias, BatchNorm weight 1 bias 0, fully
connected layers N(0, 0.01) with zero bias.
"""
from .. import nn
from .registry import check_no_weights, register_model

CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
          512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """``features`` (see ``make_layers``), the 7x7 adaptive pool and the three fully
    connected layers of the classifier."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                    if module.bias is not None:
                        nn.init.constant_(module.bias, 0)
                elif isinstance(module, nn.BatchNorm2d):
                    nn.init.constant_(module.weight, 1)
                    nn.init.constant_(module.bias, 0)
                elif isinstance(module, nn.Linear):
                    nn.init.normal_(module.weight, 0, 0.01)
                    nn.init.constant_(module.bias, 0)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x).flatten(1)
        return self.classifier(x)


def make_layers(config, batch_norm=False):
    """The convolutional part of a configuration: an int is a 3x3 convolution (padding
    1) with that many filters followed by (BatchNorm and) ReLU, "M" a 2x2/2 max-pool.
    Numbered as torchvision numbers them (features.0 is the first convolution)."""
    layers = []
    in_channels = 3
    for entry in config:
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, entry, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(entry))
        layers.append(nn.ReLU(inplace=True))
        in_channels = entry
    return nn.Sequential(*layers)


def _vgg(config, batch_norm, weights, **kwargs):
    check_no_weights(weights)
    return VGG(make_layers(CONFIGS[config], batch_norm=batch_norm), **kwargs)


@register_model
def vgg11(*, weights=None, progress=True, **kwargs):
    """VGG-11 (configuration A): 8 convolutions + 3 fully connected layers."""
    return _vgg("A", False, weights, **kwargs)


@register_model
def vgg11_bn(*, weights=None, progress=True, **kwargs):
    """VGG-11 with BatchNorm."""
    return _vgg("A", True, weights, **kwargs)


@register_model
def vgg13(*, weights=None, progress=True, **kwargs):
    """VGG-13 (configuration B)."""
    return _vgg("B", False, weights, **kwargs)


@register_model
def vgg13_bn(*, weights=None, progress=True, **kwargs):
    """VGG-13 with BatchNorm."""
    return _vgg("B", True, weights, **kwargs)


@register_model
def vgg16(*, weights=None, progress=True, **kwargs):
    """VGG-16 (configuration D)."""
    return _vgg("D", False, weights, **kwargs)


@register_model
def vgg16_bn(*, weights=None, progress=True, **kwargs):
    """VGG-16 with BatchNorm."""
    return _vgg("D", True, weights, **kwargs)


@register_model
def vgg19(*, weights=None, progress=True, **kwargs):
    """VGG-19 (configuration E)."""
    return _vgg("E", False, weights, **kwargs)


@register_model
def vgg19_bn(*, weights=None, progress=True, **kwargs):
    """VGG-19 with BatchNorm."""
    return _vgg("E", True, weights, **kwargs)
