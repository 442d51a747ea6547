"""Wide residual networks for CIFAR (Zagoruyko & Komodakis 2016, "Wide residual networks").

Deep thin ResNets spend most layers on tiny corrections (diminishing feature reuse);
widening each block by a factor k and using far fewer blocks trains faster and is more
accurate: WRN-28-10, 28 layers deep, beats the 1001-layer thin ResNet on CIFAR. With
wide blocks a dropout between the two convolutions of a block regularizes better than
batch normalization alone.

WRN-d-k (n = (d - 4) / 6 blocks per group; pre-activation B(3,3) blocks, see
preact_resnet.py; 1x1 convolution shortcuts where the shape changes; no biases):

    conv1 3x3, 16                                                         16 x 32 x 32
    group 1: n blocks, 16k channels                                      16k x 32 x 32
    group 2: n blocks, 32k channels, the first with stride 2             32k x 16 x 16
    group 3: n blocks, 64k channels, the first with stride 2             64k x 8 x 8
    BN -> ReLU -> global average pool -> fc 64k -> num_classes

    block: bn -> relu -> conv 3x3 -> bn -> relu -> dropout -> conv 3x3, plus the shortcut

    name               depth  k   parameters (10 classes)
    wide_resnet16_8     16    8   10,961,370
    wide_resnet28_10    28   10   36,479,194
    wide_resnet40_4     40    4    8,949,210

``dropout`` defaults to 0 (the paper's plain WRNs); its dropout results use 0.3.
"""
from .preact_resnet import PreActBlock, PreActResNet
from .registry import register_model


def wide_resnet(depth, k, dropout=0.0, num_classes=10, zero_init_residual=False,
                stochastic_depth_prob=0.0):
    """WRN-``depth``-``k``: (depth - 4) / 6 pre-activation blocks per group, widths 16k,
    32k, 64k, ``dropout`` between the convolutions of every block."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(f"depth: expected 6n + 4 with n >= 1 (10, 16, 22, 28, 40, ...), got {depth!r}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive integer widening factor, got {k!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
    blocks = (depth - 4) // 6
    return PreActResNet([blocks] * 3, num_classes, zero_init_residual, block=PreActBlock,
                        widths=(16 * k, 32 * k, 64 * k), stem_channels=16, dropout=dropout,
                        stochastic_depth_prob=stochastic_depth_prob)


@register_model
def wide_resnet16_8(num_classes=10, dropout=0.0, zero_init_residual=False,
                    stochastic_depth_prob=0.0):
    """WRN-16-8: 2 blocks per group, widths 128-512."""
    return wide_resnet(16, 8, dropout, num_classes, zero_init_residual, stochastic_depth_prob)


@register_model
def wide_resnet28_10(num_classes=10, dropout=0.0, zero_init_residual=False,
                     stochastic_depth_prob=0.0):
    """WRN-28-10: 4 blocks per group, widths 160-640; 36,479,194 parameters."""
    return wide_resnet(28, 10, dropout, num_classes, zero_init_residual, stochastic_depth_prob)


@register_model
def wide_resnet40_4(num_classes=10, dropout=0.0, zero_init_residual=False,
                    stochastic_depth_prob=0.0):
    """WRN-40-4: 6 blocks per group, widths 64-256."""
    return wide_resnet(40, 4, dropout, num_classes, zero_init_residual, stochastic_depth_prob)
