"""Squeeze-and-excitation ResNets (Hu, Shen & Sun 2018, "Squeeze-and-excitation networks").

An SE block (``nn.SqueezeExcitation``) pools each channel of a residual branch to one
number, passes the C numbers through a bottleneck of two fully connected layers (C -> C/r
-> C, ReLU then sigmoid) and multiplies each channel by its gate in (0, 1): the network
learns to re-weight its channels from global context, for about 10% more parameters and
a small fraction more compute. It sits at the end of the residual branch, before the sum
with the shortcut (the paper's figure 3):

    out = relu(SE(branch(x)) + shortcut(x)),   SE reduction r = 16

    se_resnet50   torchvision's resnet50 (resnet.py) with an SE block in each of its 16
                  bottlenecks (the SE convolutions with bias): 28,088,024 parameters
    se_resnet20   He et al.'s CIFAR resnet20 (resnet_cifar.py) with an SE block in each
                  of its 9 basic blocks (16 channels: a 1-unit squeeze): 272,095 parameters

The bottleneck keeps torchvision's stride on the 3x3 convolution (the paper's Caffe
models stride the first 1x1; the parameter count is the same). SE layers are named
``se`` inside each block (layer1.0.se.fc1.weight, ...) and start like the other
convolutions (He normal, zero bias).
"""
from .. import nn
from .registry import check_no_weights, register_model
from .resnet import Bottleneck, ResNet
from .resnet_cifar import CifarBasicBlock, CifarResNet

REDUCTION = 16


def squeeze_excitation(channels, reduction=REDUCTION):
    return nn.SqueezeExcitation(channels, max(1, channels // reduction))


class SEBottleneck(Bottleneck):
    """torchvision's bottleneck with an SE block after bn3, before the sum."""

    def __init__(self, inplanes, planes, *args, **kwargs):
        super().__init__(inplanes, planes, *args, **kwargs)
        self.se = squeeze_excitation(planes * self.expansion)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.se(self.bn3(self.conv3(out)))
        return self.relu(out + identity)


class SECifarBasicBlock(CifarBasicBlock):
    """He et al.'s CIFAR basic block with an SE block after bn2, before the sum."""

    def __init__(self, in_channels, channels, *args, **kwargs):
        super().__init__(in_channels, channels, *args, **kwargs)
        self.se = squeeze_excitation(channels)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        return self.relu(self.stochastic_depth(out) + identity)


@register_model
def se_resnet50(*, weights=None, progress=True, **kwargs):
    """SE-ResNet-50: resnet50 with SE blocks (reduction 16); 28,088,024 parameters.
    Takes torchvision's ResNet keyword arguments."""
    check_no_weights(weights)
    return ResNet(SEBottleneck, [3, 4, 6, 3], **kwargs)


@register_model
def se_resnet20(num_classes=10, shortcut="A", zero_init_residual=False, stochastic_depth_prob=0.0):
    """SE-ResNet-20 for CIFAR: resnet20 with SE blocks (reduction 16)."""
    return CifarResNet(3, num_classes=num_classes, shortcut=shortcut,
                       zero_init_residual=zero_init_residual,
                       stochastic_depth_prob=stochastic_depth_prob, block=SECifarBasicBlock)
