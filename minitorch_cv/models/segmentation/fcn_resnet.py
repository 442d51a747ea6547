"""torchvision's FCN with a dilated ResNet backbone: fcn_resnet50, fcn_resnet101.

The FCN idea (Long et al. 2015, see ``fcn.py`` for the paper's own VGG-16 networks) on
a modern backbone: the ResNet's last two stages keep the resolution and dilate their
3x3 convolutions instead of striding (``replace_stride_with_dilation=[False, True,
True]``), so layer4 sees the image at 1/8 of its size (output stride 8) with the
receptive fields of the original network. A small head classifies each position of
layer4's map, and the scores are resized bilinearly to the input:

    backbone  ResNet-50/101, output stride 8       layer3 (N, 1024, H/8, W/8)
                                                   layer4 (N, 2048, H/8, W/8)
    classifier FCNHead(2048): conv 3x3 -> 512 (no bias), BN, ReLU, dropout 0.1,
               conv 1x1 -> num_classes; bilinear to H x W            "out"
    aux_classifier (aux_loss=True) FCNHead(1024) on layer3           "aux"

Exactly torchvision's (module tree, state_dict keys, initialization: the ResNet's He
init, PyTorch's default for the heads; outputs as a dict). num_classes defaults to 21
(Pascal VOC); parameters 32,957,013 / 35,322,218 with the auxiliary head (ResNet-50),
51,949,141 / 54,314,346 (ResNet-101). ``weights`` and ``weights_backbone`` must be None:
no pretrained weights are shipped (load a converted state_dict instead).
"""
from ... import nn
from ..registry import check_no_weights, register_model
from ..resnet import resnet50, resnet101
from .backbone import IntermediateLayerGetter, SimpleSegmentationModel, dilated_return_layers


class FCN(SimpleSegmentationModel):
    """torchvision's FCN: backbone, classifier, optional aux_classifier (see
    ``SimpleSegmentationModel``)."""


class FCNHead(nn.Sequential):
    """conv 3x3 (in -> in / 4, no bias) -> BN -> ReLU -> dropout 0.1 -> conv 1x1."""

    def __init__(self, in_channels, channels):
        inter_channels = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter_channels, channels, 1),
        )


def dilated_resnet_model(model_class, head, builder, weights, num_classes, aux_loss,
                         weights_backbone):
    """``model_class(backbone, head(2048, K), FCNHead(1024, K) or None)`` on ``builder``'s
    ResNet with layer3 and layer4 dilated instead of strided (output stride 8): how
    torchvision assembles its FCN and DeepLabv3 models."""
    check_no_weights(weights)
    check_no_weights(weights_backbone)
    num_classes = 21 if num_classes is None else num_classes
    resnet = builder(weights=None, replace_stride_with_dilation=[False, True, True])
    backbone = IntermediateLayerGetter(resnet, dilated_return_layers(aux_loss))
    aux_classifier = FCNHead(1024, num_classes) if aux_loss else None
    return model_class(backbone, head(2048, num_classes), aux_classifier)


@register_model
def fcn_resnet50(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                 weights_backbone=None):
    """FCN on a dilated ResNet-50 (torchvision's ``fcn_resnet50``)."""
    return dilated_resnet_model(FCN, FCNHead, resnet50, weights, num_classes, aux_loss,
                                weights_backbone)


@register_model
def fcn_resnet101(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                  weights_backbone=None):
    """FCN on a dilated ResNet-101 (torchvision's ``fcn_resnet101``)."""
    return dilated_resnet_model(FCN, FCNHead, resnet101, weights, num_classes, aux_loss,
                                weights_backbone)
