"""torchvision's DeepLabv3 (Chen, Papandreou, Schroff & Adam 2017, "Rethinking Atrous
Convolution for Semantic Image Segmentation"): deeplabv3_resnet50, deeplabv3_resnet101.

The idea: keep the feature maps large with atrous (dilated) convolutions, and look at
each position at several scales at once. Atrous Spatial Pyramid Pooling (ASPP) runs, in
parallel on the backbone's last map, a 1x1 convolution, three 3x3 convolutions dilated
by 12, 24 and 36 (at output stride 8: the paper's 6/12/18 at stride 16, doubled) and an
image-level branch (global average pool, 1x1 convolution, broadcast back), then fuses
the five:

    backbone  dilated ResNet-50/101, output stride 8 (see ``fcn_resnet.py``)
    classifier DeepLabHead(2048):
        ASPP   [conv 1x1; 3x (conv 3x3 dilated 12/24/36); pool -> conv 1x1 -> resize],
               each 256 channels + BN + ReLU; concat (1280) -> conv 1x1 256, BN, ReLU,
               dropout 0.5
        conv 3x3 256 (no bias), BN, ReLU, conv 1x1 -> num_classes
    bilinear to H x W                                              "out"
    aux_classifier (aux_loss=True): FCNHead(1024) on layer3        "aux"

Exactly torchvision's (module tree, state_dict keys, initialization, dict outputs).
num_classes defaults to 21; parameters 39,638,869 / 42,004,074 with the auxiliary head
(ResNet-50), 58,630,997 / 60,996,202 (ResNet-101). The image-pooling branch's
BatchNorm sees one value per channel and image, so training needs batches of 2 or more.
"""
from ... import nn
from ...nn import functional as F
from ...ops import cat
from ..registry import register_model
from ..resnet import resnet50, resnet101
from .backbone import SimpleSegmentationModel
from .fcn_resnet import dilated_resnet_model


class DeepLabV3(SimpleSegmentationModel):
    """torchvision's DeepLabV3: backbone, classifier, optional aux_classifier."""


class ASPPConv(nn.Sequential):
    """conv 3x3 dilated by ``dilation`` (padding alike: same size, no bias) -> BN -> ReLU."""

    def __init__(self, in_channels, out_channels, dilation):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation,
                      bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class ASPPPooling(nn.Sequential):
    """Image-level features: global average pool -> conv 1x1 (no bias) -> BN -> ReLU,
    resized back to the input's size (bilinear from 1x1: a constant map)."""

    def __init__(self, in_channels, out_channels):
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x):
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """The five parallel branches (``convs``) and their fusion (``project``).
    ``atrous_conv`` builds the dilated branches (``ASPPConv``; DeepLabv3+ passes its
    separable convolution) and ``dropout`` is the fusion's (torchvision: 0.5)."""

    def __init__(self, in_channels, atrous_rates, out_channels=256, atrous_conv=None,
                 dropout=0.5):
        super().__init__()
        atrous_conv = ASPPConv if atrous_conv is None else atrous_conv
        branches = [nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                  nn.BatchNorm2d(out_channels), nn.ReLU())]
        branches += [atrous_conv(in_channels, out_channels, rate) for rate in atrous_rates]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(
            nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        return self.project(cat([branch(x) for branch in self.convs], dim=1))


class DeepLabHead(nn.Sequential):
    """ASPP -> conv 3x3 256 (no bias) -> BN -> ReLU -> conv 1x1 -> num_classes."""

    def __init__(self, in_channels, num_classes, atrous_rates=(12, 24, 36)):
        super().__init__(
            ASPP(in_channels, atrous_rates),
            nn.Conv2d(256, 256, 3, padding=1, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.Conv2d(256, num_classes, 1),
        )


@register_model
def deeplabv3_resnet50(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                       weights_backbone=None):
    """DeepLabv3 on a dilated ResNet-50 (torchvision's ``deeplabv3_resnet50``)."""
    return dilated_resnet_model(DeepLabV3, DeepLabHead, resnet50, weights, num_classes,
                                aux_loss, weights_backbone)


@register_model
def deeplabv3_resnet101(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                        weights_backbone=None):
    """DeepLabv3 on a dilated ResNet-101 (torchvision's ``deeplabv3_resnet101``)."""
    return dilated_resnet_model(DeepLabV3, DeepLabHead, resnet101, weights, num_classes,
                                aux_loss, weights_backbone)
