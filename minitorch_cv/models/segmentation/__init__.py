"""Semantic segmentation: networks that classify every pixel, and their losses.

    from minitorch_cv import models
    model = models.get_model("unet", in_channels=1, num_classes=2)
    models.list_models(module=models.segmentation)

    unet.py           U-Net (Ronneberger et al. 2015): unet, OverlapTile
    fcn.py            FCN-32s/16s/8s on VGG-16 (Long et al. 2015), the paper's crops
    hypercolumn.py    hypercolumn_vgg16 (Hariharan et al. 2015)
    backbone.py       IntermediateLayerGetter, SimpleSegmentationModel (torchvision's)
    fcn_resnet.py     torchvision's fcn_resnet50/101 (dilated ResNet, FCNHead)
    deeplabv3.py      torchvision's deeplabv3_resnet50/101 (ASPP)
    deeplabv3plus.py  deeplabv3plus_resnet50 (Chen et al. 2018: separable ASPP, decoder)
    loss.py           per-pixel weighted cross entropy, auxiliary losses

Models whose names torchvision uses return torchvision's dict {"out"[, "aux"]};
DeepLabv3+ too; the papers' U-Net, FCNs and hypercolumns return the score map.
"""
from .backbone import IntermediateLayerGetter, SimpleSegmentationModel
from .deeplabv3 import ASPP, DeepLabHead, DeepLabV3, deeplabv3_resnet50, deeplabv3_resnet101
from .deeplabv3plus import DeepLabV3Plus, SeparableConv2d, deeplabv3plus_resnet50
from .fcn import BilinearUpsampling, FCNVGG16, convolutionalize_, fcn8s, fcn16s, fcn32s
from .fcn_resnet import FCN, FCNHead, fcn_resnet50, fcn_resnet101
from .hypercolumn import HypercolumnVGG16, hypercolumn_vgg16
from .loss import SegmentationLoss, pixel_weighted_cross_entropy, segmentation_loss
from .unet import OverlapTile, UNet, unet

__all__ = [
    "ASPP",
    "BilinearUpsampling",
    "DeepLabHead",
    "DeepLabV3",
    "DeepLabV3Plus",
    "FCN",
    "FCNHead",
    "FCNVGG16",
    "HypercolumnVGG16",
    "IntermediateLayerGetter",
    "OverlapTile",
    "SegmentationLoss",
    "SeparableConv2d",
    "SimpleSegmentationModel",
    "UNet",
    "convolutionalize_",
    "deeplabv3_resnet50",
    "deeplabv3_resnet101",
    "deeplabv3plus_resnet50",
    "fcn16s",
    "fcn32s",
    "fcn8s",
    "fcn_resnet50",
    "fcn_resnet101",
    "hypercolumn_vgg16",
    "pixel_weighted_cross_entropy",
    "segmentation_loss",
    "unet",
]
