"""The CIFAR-10 ResNets of He et al. (2015), "Deep residual learning", section 4.2.

    resnet20, resnet32, resnet44, resnet56, resnet110: 6n + 2 layers, n = 3, 5, 7, 9, 18

The network for 32x32 images (N batch):

    (N, 3, 32, 32)  -> conv 3x3, 16 -> BN -> ReLU                  (N, 16, 32, 32)
    layer1: n basic blocks, 16 channels                            (N, 16, 32, 32)
    layer2: n basic blocks, 32 channels, the first with stride 2   (N, 32, 16, 16)
    layer3: n basic blocks, 64 channels, the first with stride 2   (N, 64, 8, 8)
    global average pool -> fc 64 -> num_classes                    (N, num_classes)

No max-pool. A basic block is  out = ReLU(x' + BN(conv3x3(ReLU(BN(conv3x3(x))))))  where
x' is x itself, or where the block changes the shape (the first block of layers 2 and
3: half the size, twice the channels) a "shortcut":

    option "A" (the paper's CIFAR choice, no parameters): take every second pixel
               x[:, :, ::2, ::2] and append zero channels, so the first C channels pass
               unchanged and the new ones start at zero;
    option "B": a 1x1 convolution with stride 2 followed by BN (a learned projection).

ResNet-20 with option A has 269,722 parameters (0.27M in the paper's table 6).
Weights: He initialization, see ``weight_init.py``. The module names follow torchvision's
ResNets (conv1, bn1, layer1.0.conv1, ..., layer2.0.downsample, fc).

Stochastic depth (Huang et al. 2016, "Deep networks with stochastic depth"): with
``stochastic_depth_prob`` = q > 0 the residual branch of block l (l = 1 ... L, counted
through the whole network) is skipped with probability l / L * q during training, for
the whole mini-batch at once as in the paper (``nn.StochasticDepth(l / L * q, "batch")``).
That is the paper's linear decay of the survival probabilities, p_l = 1 - l / L (1 - p_L),
with q = 1 - p_L: early blocks, whose features everything after them needs, are almost
always kept, the last one survives with p_L. The paper scales a branch by its survival
probability at test time; here the survivors are scaled by 1 / p_l in training instead
(the same expectation) and eval is unchanged. resnet110 with ``stochastic_depth_prob=0.5``
(p_L = 0.5) is the paper's CIFAR setting.
"""
from .. import nn
from ..nn import functional as F
from .registry import register_model
from .weight_init import init_resnet_

SHORTCUTS = ("A", "B")


class PadShortcut(nn.Module):
    """Option A: ``out = pad_channels(x[:, :, ::S, ::S])`` with zeros up to ``out_channels``.

    Parameter-free; the gradient of the zero channels is dropped, that of the kept
    pixels flows straight to x (slicing and padding are linear).
    """

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(
                f"out_channels: option A shortcuts can only add channels, got "
                f"{in_channels} -> {out_channels}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        if extra:
            # F.pad lists (before, after) pairs from the last dim: W, H, then C.
            x = F.pad(x, (0, 0, 0, 0, 0, extra))
        return x

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


def conv3x3(in_channels, out_channels, stride=1):
    """3x3 convolution with padding 1 and no bias (a BN follows, whose bias replaces it)."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def linear_decay(stochastic_depth_prob, blocks):
    """The drop probabilities l / L * stochastic_depth_prob of blocks l = 1 ... L (the
    paper's survival probabilities p_l = 1 - l / L (1 - p_L), stochastic_depth_prob = 1 - p_L)."""
    if isinstance(stochastic_depth_prob, bool) or not 0 <= stochastic_depth_prob <= 1:
        raise ValueError(
            f"stochastic_depth_prob: expected a probability in [0, 1], got {stochastic_depth_prob!r}")
    return [stochastic_depth_prob * (index + 1) / blocks for index in range(blocks)]


class CifarBasicBlock(nn.Module):
    """out = relu(stochastic_depth(bn2(conv2(relu(bn1(conv1(x)))))) + shortcut(x))."""

    def __init__(self, in_channels, channels, stride=1, shortcut="A", drop_prob=0.0):
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        if stride == 1 and in_channels == channels:
            self.downsample = None
        elif shortcut == "A":
            self.downsample = PadShortcut(in_channels, channels, stride)
        else:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels),
            )
        self.stochastic_depth = nn.StochasticDepth(drop_prob, "batch")

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(self.stochastic_depth(out) + identity)

    def zero_init_last(self):
        nn.init.zeros_(self.bn2.weight)


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet with ``blocks_per_stage`` = n basic blocks per stage
    (6n + 2 weighted layers) and stage widths ``widths`` (16, 32, 64). ``block``: the
    block class (CifarBasicBlock; se_resnet.py passes its SE variant)."""

    def __init__(self, blocks_per_stage, num_classes=10, shortcut="A",
                 zero_init_residual=False, widths=(16, 32, 64), stochastic_depth_prob=0.0,
                 block=CifarBasicBlock):
        super().__init__()
        if shortcut not in SHORTCUTS:
            raise ValueError(f"shortcut: expected one of {SHORTCUTS}, got {shortcut!r}")
        if not isinstance(blocks_per_stage, int) or blocks_per_stage < 1:
            raise ValueError(f"blocks_per_stage: expected a positive int, got {blocks_per_stage!r}")
        self.shortcut = shortcut
        self.conv1 = conv3x3(3, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        in_channels = widths[0]
        drop_probs = iter(linear_decay(stochastic_depth_prob, blocks_per_stage * len(widths)))
        for index, channels in enumerate(widths):
            stride = 1 if index == 0 else 2
            blocks = []
            for position in range(blocks_per_stage):
                blocks.append(block(in_channels, channels, stride if position == 0 else 1,
                                    shortcut, next(drop_probs)))
                in_channels = channels
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_channels, num_classes)
        self.num_stages = len(widths)
        init_resnet_(self, zero_init_residual)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for index in range(self.num_stages):
            x = getattr(self, f"layer{index + 1}")(x)
        x = self.avgpool(x).flatten(1)
        return self.fc(x)


def _cifar_resnet(depth, num_classes, shortcut, zero_init_residual, stochastic_depth_prob):
    return CifarResNet((depth - 2) // 6, num_classes=num_classes, shortcut=shortcut,
                       zero_init_residual=zero_init_residual,
                       stochastic_depth_prob=stochastic_depth_prob)


@register_model
def resnet20(num_classes=10, shortcut="A", zero_init_residual=False, stochastic_depth_prob=0.0):
    """ResNet-20 for CIFAR (n = 3): 269,722 parameters with option A."""
    return _cifar_resnet(20, num_classes, shortcut, zero_init_residual, stochastic_depth_prob)


@register_model
def resnet32(num_classes=10, shortcut="A", zero_init_residual=False, stochastic_depth_prob=0.0):
    """ResNet-32 for CIFAR (n = 5)."""
    return _cifar_resnet(32, num_classes, shortcut, zero_init_residual, stochastic_depth_prob)


@register_model
def resnet44(num_classes=10, shortcut="A", zero_init_residual=False, stochastic_depth_prob=0.0):
    """ResNet-44 for CIFAR (n = 7)."""
    return _cifar_resnet(44, num_classes, shortcut, zero_init_residual, stochastic_depth_prob)


@register_model
def resnet56(num_classes=10, shortcut="A", zero_init_residual=False, stochastic_depth_prob=0.0):
    """ResNet-56 for CIFAR (n = 9)."""
    return _cifar_resnet(56, num_classes, shortcut, zero_init_residual, stochastic_depth_prob)


@register_model
def resnet110(num_classes=10, shortcut="A", zero_init_residual=False, stochastic_depth_prob=0.0):
    """ResNet-110 for CIFAR (n = 18); ``stochastic_depth_prob=0.5`` is Huang et al.'s setting."""
    return _cifar_resnet(110, num_classes, shortcut, zero_init_residual, stochastic_depth_prob)
