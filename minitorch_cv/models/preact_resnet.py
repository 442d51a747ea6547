"""Pre-activation ResNets (He et al. 2016, "Identity mappings in deep residual networks").

A pre-activation block moves BN and ReLU in front of each convolution and adds nothing
after the sum, so the shortcut path is a pure identity from block to block and signals
pass unchanged through hundreds of layers (the paper trains 1001 on CIFAR):

    a   = relu(bn1(x))
    out = branch(a) + shortcut

    basic:      branch(a) = conv2(relu(bn2(conv1(a))))                        (3x3, 3x3)
    bottleneck: branch(a) = conv3(relu(bn3(conv2(relu(bn2(conv1(a)))))))      (1x1, 3x3, 1x1 x 4)
    shortcut = x              when the shape stays
             = downsample(a)  a 1x1 convolution with the stride (no BN: its input is
                              already normalized) when the shape changes

The network: conv 3x3 (no BN after it: the first block normalizes), stages of blocks
(stride 2 at the start of every stage but the first), then the final BN + ReLU that the
pre-activation design needs (the last block ends in a convolution), global average pool
and fc. Convolutions have no bias.

    name               block        stages x blocks   widths (x4 for bottlenecks)   parameters
    preact_resnet18    basic        [2, 2, 2, 2]      64, 128, 256, 512             11,172,170
    preact_resnet110   basic        [18, 18, 18]      16, 32, 64                    1,730,522
    preact_resnet164   bottleneck   [18, 18, 18]      16, 32, 64 (64, 128, 256)     1,703,258

(10 classes). preact_resnet110 and 164 are the paper's CIFAR networks (table 2);
preact_resnet18 is the ImageNet layout with a CIFAR stem. Names follow the other ResNets:
conv1, layer1.0.bn1, layer1.0.conv1, ..., layer2.0.downsample.weight, bn, fc.
``stochastic_depth_prob`` drops the branches with the linear decay of resnet_cifar.py.
"""
from .. import nn
from .registry import register_model
from .resnet import conv1x1, conv3x3
from .resnet_cifar import linear_decay
from .weight_init import init_resnet_


class PreActBlock(nn.Module):
    """out = conv2(relu(bn2(conv1(relu(bn1(x)))))) + shortcut (see the module docstring).
    ``dropout`` > 0 puts a dropout between the two convolutions (wide ResNets)."""

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, drop_prob=0.0, dropout=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        if stride != 1 or in_channels != channels:
            self.downsample = conv1x1(in_channels, channels, stride)
        else:
            self.downsample = None
        self.stochastic_depth = nn.StochasticDepth(drop_prob, "batch")

    def forward(self, x):
        activated = self.relu(self.bn1(x))
        shortcut = x if self.downsample is None else self.downsample(activated)
        out = self.relu(self.bn2(self.conv1(activated)))
        if self.dropout is not None:
            out = self.dropout(out)
        out = self.conv2(out)
        return self.stochastic_depth(out) + shortcut

    def zero_init_last(self):
        # The branch ends in a convolution (no BN after it): zero its weight.
        nn.init.zeros_(self.conv2.weight)


class PreActBottleneck(nn.Module):
    """out = conv3(relu(bn3(conv2(relu(bn2(conv1(relu(bn1(x))))))))) + shortcut: 1x1 to
    ``channels``, 3x3 with the stride, 1x1 to ``channels * 4``."""

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, drop_prob=0.0):
        super().__init__()
        out_channels = channels * self.expansion
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv1x1(in_channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn3 = nn.BatchNorm2d(channels)
        self.conv3 = conv1x1(channels, out_channels)
        self.relu = nn.ReLU()
        if stride != 1 or in_channels != out_channels:
            self.downsample = conv1x1(in_channels, out_channels, stride)
        else:
            self.downsample = None
        self.stochastic_depth = nn.StochasticDepth(drop_prob, "batch")

    def forward(self, x):
        activated = self.relu(self.bn1(x))
        shortcut = x if self.downsample is None else self.downsample(activated)
        out = self.relu(self.bn2(self.conv1(activated)))
        out = self.relu(self.bn3(self.conv2(out)))
        out = self.conv3(out)
        return self.stochastic_depth(out) + shortcut

    def zero_init_last(self):
        nn.init.zeros_(self.conv3.weight)


class PreActResNet(nn.Module):
    """Pre-activation ResNet: a 3x3 stem with ``stem_channels`` outputs (default the first
    width), then ``layers[i]`` blocks of width ``widths[i]`` in stage i. ``dropout`` goes
    to the basic blocks (wide ResNets); ``stochastic_depth_prob`` is the drop probability
    of the last block in the linear decay over all blocks (resnet_cifar.py)."""

    def __init__(self, layers, num_classes=10, zero_init_residual=False, block=PreActBlock,
                 widths=(64, 128, 256, 512), stem_channels=None, dropout=0.0,
                 stochastic_depth_prob=0.0):
        super().__init__()
        if len(layers) != len(widths):
            raise ValueError(f"layers: expected {len(widths)} block counts (one per width), got {layers!r}")
        extra = {"dropout": dropout} if dropout else {}
        in_channels = widths[0] if stem_channels is None else stem_channels
        self.conv1 = conv3x3(3, in_channels)
        drop_probs = iter(linear_decay(stochastic_depth_prob, sum(layers)))
        for index, (channels, count) in enumerate(zip(widths, layers)):
            stride = 1 if index == 0 else 2
            blocks = []
            for position in range(count):
                blocks.append(block(in_channels, channels, stride if position == 0 else 1,
                                    next(drop_probs), **extra))
                in_channels = channels * block.expansion
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks))
        self.num_stages = len(widths)
        self.bn = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_channels, num_classes)
        init_resnet_(self, zero_init_residual)

    def forward(self, x):
        x = self.conv1(x)
        for index in range(self.num_stages):
            x = getattr(self, f"layer{index + 1}")(x)
        x = self.relu(self.bn(x))
        x = self.avgpool(x).flatten(1)
        return self.fc(x)


@register_model
def preact_resnet18(num_classes=10, zero_init_residual=False, stochastic_depth_prob=0.0):
    """Pre-activation ResNet-18 for CIFAR: [2, 2, 2, 2] basic blocks, widths 64-512."""
    return PreActResNet([2, 2, 2, 2], num_classes, zero_init_residual,
                        stochastic_depth_prob=stochastic_depth_prob)


@register_model
def preact_resnet110(num_classes=10, zero_init_residual=False, stochastic_depth_prob=0.0):
    """Pre-activation ResNet-110 (He et al. 2016, CIFAR): 3 x 18 basic blocks, widths 16-64."""
    return PreActResNet([18, 18, 18], num_classes, zero_init_residual, widths=(16, 32, 64),
                        stochastic_depth_prob=stochastic_depth_prob)


@register_model
def preact_resnet164(num_classes=10, zero_init_residual=False, stochastic_depth_prob=0.0):
    """Pre-activation ResNet-164 (He et al. 2016, CIFAR): 3 x 18 bottlenecks; 1,703,258
    parameters."""
    return PreActResNet([18, 18, 18], num_classes, zero_init_residual, block=PreActBottleneck,
                        widths=(16, 32, 64), stochastic_depth_prob=stochastic_depth_prob)
