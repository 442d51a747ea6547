"""Pre-activation ResNet-18 for CIFAR (He et al. 2016, "Identity mappings in deep
residual networks").

A pre-activation block moves BN and ReLU in front of each convolution and adds
nothing after the sum, so the shortcut path is a pure identity from block to block:

    a   = relu(bn1(x))
    out = conv2(relu(bn2(conv1(a)))) + shortcut

    shortcut = x              when the shape stays
             = downsample(a)  a 1x1 convolution with the stride (no BN: its input is
                              already normalized) when the shape changes

The network: conv 3x3 (3 -> 64, stride 1, no BN after it: the first block normalizes),
four stages of two blocks (64, 128, 256, 512 channels, stride 2 at the start of stages
2-4), then the final BN + ReLU that the pre-activation design needs (the last block ends
in a convolution), global average pool and fc. Names follow the other ResNets:
conv1, layer1.0.bn1, layer1.0.conv1, ..., layer2.0.downsample.weight, bn, fc.
"""
from .. import nn
from .registry import register_model
from .resnet import conv1x1, conv3x3
from .weight_init import init_resnet_


class PreActBlock(nn.Module):
    """out = conv2(relu(bn2(conv1(relu(bn1(x)))))) + shortcut (see the module docstring)."""

    expansion = 1

    def __init__(self, in_channels, channels, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels)
        self.relu = nn.ReLU()
        if stride != 1 or in_channels != channels:
            self.downsample = conv1x1(in_channels, channels, stride)
        else:
            self.downsample = None

    def forward(self, x):
        activated = self.relu(self.bn1(x))
        shortcut = x if self.downsample is None else self.downsample(activated)
        out = self.conv1(activated)
        out = self.conv2(self.relu(self.bn2(out)))
        return out + shortcut

    def zero_init_last(self):
        # The branch ends in a convolution (no BN after it): zero its weight.
        nn.init.zeros_(self.conv2.weight)


class PreActResNet(nn.Module):
    """Pre-activation ResNet with ``layers`` PreActBlocks in each of the four stages."""

    def __init__(self, layers, num_classes=10, zero_init_residual=False):
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"layers: expected 4 block counts, got {layers!r}")
        self.conv1 = conv3x3(3, 64)
        in_channels = 64
        for index, (channels, count) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if index == 0 else 2
            blocks = []
            for block in range(count):
                blocks.append(PreActBlock(in_channels, channels, stride if block == 0 else 1))
                in_channels = channels
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks))
        self.bn = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_channels, num_classes)
        init_resnet_(self, zero_init_residual)

    def forward(self, x):
        x = self.conv1(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.relu(self.bn(x))
        x = self.avgpool(x).flatten(1)
        return self.fc(x)


@register_model
def preact_resnet18(num_classes=10, zero_init_residual=False):
    """Pre-activation ResNet-18 for CIFAR: [2, 2, 2, 2] pre-activation basic blocks."""
    return PreActResNet([2, 2, 2, 2], num_classes, zero_init_residual)
