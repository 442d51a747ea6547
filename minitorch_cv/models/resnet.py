"""CIFAR variants of the ImageNet ResNets (He et al. 2015): resnet18, resnet34, resnet50.

torchvision's ResNet, changed only where 32x32 images need it:

    (N, 3, 32, 32)  -> conv 3x3 stride 1, 64 -> BN -> ReLU         (N, 64, 32, 32)
                       (ImageNet: conv 7x7 stride 2 and a 3x3 max-pool; here neither)
    layer1: blocks,  64 * E channels, stride 1                     (N, 64E, 32, 32)
    layer2: blocks, 128 * E channels, stride 2                     (N, 128E, 16, 16)
    layer3: blocks, 256 * E channels, stride 2                     (N, 256E, 8, 8)
    layer4: blocks, 512 * E channels, stride 2                     (N, 512E, 4, 4)
    global average pool -> fc 512E -> num_classes

E is the block's expansion: 1 for the basic block (two 3x3 convolutions; resnet18 has
[2, 2, 2, 2] blocks per stage, resnet34 [3, 4, 6, 3]) and 4 for the bottleneck (1x1
down to the stage width, 3x3 with the stride, 1x1 up to 4x the width; resnet50 has
[3, 4, 6, 3]). Where a block changes the shape, the shortcut is a projection
``downsample = Sequential(conv 1x1 with the stride, BN)``; elsewhere the identity.
The stride of a bottleneck sits on its 3x3 convolution (torchvision's "ResNet v1.5").

Module and state_dict names are torchvision's (conv1, bn1, layer1.0.conv1,
layer1.0.bn1, ..., layer2.0.downsample.0.weight, layer2.0.downsample.1.running_mean,
fc.weight), so weights map one to one between the two (apart from conv1, whose shape
differs from the ImageNet stem). resnet18 with 10 classes has 11,173,962 parameters.
"""
from .. import nn
from .registry import register_model
from .weight_init import init_resnet_


def conv3x3(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """out = relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)); two 3x3 convs."""

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)

    def zero_init_last(self):
        nn.init.zeros_(self.bn2.weight)


class Bottleneck(nn.Module):
    """out = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))) + downsample(x)):
    1x1 to ``channels``, 3x3 with the stride, 1x1 to ``channels * 4``."""

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = conv1x1(channels, channels * self.expansion)
        self.bn3 = nn.BatchNorm2d(channels * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)

    def zero_init_last(self):
        nn.init.zeros_(self.bn3.weight)


class ResNet(nn.Module):
    """A CIFAR ResNet of ``block`` (BasicBlock or Bottleneck) with ``layers`` blocks in
    each of the four stages (widths 64, 128, 256, 512 times the block's expansion)."""

    def __init__(self, block, layers, num_classes=10, zero_init_residual=False):
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"layers: expected 4 block counts, got {layers!r}")
        self.in_channels = 64
        self.conv1 = conv3x3(3, 64)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.layer1 = self._make_layer(block, 64, layers[0], stride=1)
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_resnet_(self, zero_init_residual)

    def _make_layer(self, block, channels, count, stride):
        downsample = None
        if stride != 1 or self.in_channels != channels * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.in_channels, channels * block.expansion, stride),
                nn.BatchNorm2d(channels * block.expansion),
            )
        blocks = [block(self.in_channels, channels, stride, downsample)]
        self.in_channels = channels * block.expansion
        for _ in range(1, count):
            blocks.append(block(self.in_channels, channels))
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x).flatten(1)
        return self.fc(x)


@register_model
def resnet18(num_classes=10, zero_init_residual=False):
    """ResNet-18, CIFAR stem: basic blocks [2, 2, 2, 2]; 11,173,962 parameters."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, zero_init_residual)


@register_model
def resnet34(num_classes=10, zero_init_residual=False):
    """ResNet-34, CIFAR stem: basic blocks [3, 4, 6, 3]."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, zero_init_residual)


@register_model
def resnet50(num_classes=10, zero_init_residual=False):
    """ResNet-50, CIFAR stem: bottleneck blocks [3, 4, 6, 3]."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, zero_init_residual)
