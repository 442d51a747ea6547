"""minitorch_cv.models: architectures built only from ``nn`` (they know nothing of
devices or kernels), constructible by name.

    from minitorch_cv import models
    model = models.resnet20()                     # or models.get_model("resnet20")
    models.list_models()

A name that torchvision uses (resnet50, vgg16_bn, ...) builds torchvision's network
exactly (constructor keywords, module tree, state_dict keys, initialization); the others
are the papers' originals and the CIFAR networks. One family per file, each opening with
its paper and the layer table it implements:

    registry.py       get_model, list_models, register_model
    weight_init.py    He initialization of residual networks, zero-init of residual branches
    resnet.py         torchvision's ResNet, ResNeXt and wide ResNet-50/101-2; cifar_resnet18/34/50
    resnet_cifar.py   He et al. 2015's CIFAR ResNets: resnet20/32/44/56/110
    preact_resnet.py  pre-activation ResNets (He et al. 2016): preact_resnet18
    vgg.py            vgg11 ... vgg19 and the _bn variants
    blocks.py         torchvision.ops.misc's Conv2dNormActivation and MLP
    densenet.py       torchvision's densenet121/161/169/201; densenet_bc_100_k12 (CIFAR)
    mobilenetv2.py    torchvision's mobilenet_v2
    efficientnet.py   torchvision's efficientnet_b0 ... efficientnet_b7
    vision_transformer.py  torchvision's vit_b_16, vit_b_32, vit_l_16; vit_s_16, vit_ti_16
    coatnet.py        CoAtNet (Dai et al. 2021): coatnet_0
    segmentation/     dense prediction: U-Net, FCN, DeepLab(v3, v3+), hypercolumns
"""
from . import segmentation
from .blocks import MLP, Conv2dNormActivation
from .coatnet import CoAtNet, coatnet_0
from .densenet import DenseNet, densenet121, densenet161, densenet169, densenet201, densenet_bc_100_k12
from .efficientnet import (
    EfficientNet,
    MBConv,
    MBConvConfig,
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_b2,
    efficientnet_b3,
    efficientnet_b4,
    efficientnet_b5,
    efficientnet_b6,
    efficientnet_b7,
)
from .mobilenetv2 import InvertedResidual, MobileNetV2, mobilenet_v2
from .preact_resnet import PreActBlock, PreActResNet, preact_resnet18
from .registry import get_model, get_model_builder, list_models, register_model
from .resnet import (
    BasicBlock,
    Bottleneck,
    CifarStemResNet,
    ResNet,
    cifar_resnet18,
    cifar_resnet34,
    cifar_resnet50,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    resnext101_32x8d,
    resnext101_64x4d,
    wide_resnet50_2,
    wide_resnet101_2,
)
from .resnet_cifar import (
    CifarBasicBlock,
    CifarResNet,
    PadShortcut,
    resnet20,
    resnet32,
    resnet44,
    resnet56,
    resnet110,
)
from .vgg import (
    VGG,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from .vision_transformer import (
    VisionTransformer,
    vit_b_16,
    vit_b_32,
    vit_l_16,
    vit_s_16,
    vit_ti_16,
)

__all__ = [
    "CoAtNet",
    "coatnet_0",
    "Conv2dNormActivation",
    "DenseNet",
    "EfficientNet",
    "MBConv",
    "MBConvConfig",
    "InvertedResidual",
    "MLP",
    "MobileNetV2",
    "VisionTransformer",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "densenet_bc_100_k12",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "mobilenet_v2",
    "vit_b_16",
    "vit_b_32",
    "vit_l_16",
    "vit_s_16",
    "vit_ti_16",
    "BasicBlock",
    "Bottleneck",
    "CifarBasicBlock",
    "CifarResNet",
    "CifarStemResNet",
    "PadShortcut",
    "PreActBlock",
    "PreActResNet",
    "ResNet",
    "VGG",
    "cifar_resnet18",
    "cifar_resnet34",
    "cifar_resnet50",
    "get_model",
    "get_model_builder",
    "list_models",
    "preact_resnet18",
    "register_model",
    "resnet18",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet44",
    "resnet50",
    "resnet56",
    "resnet101",
    "resnet110",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "wide_resnet50_2",
    "wide_resnet101_2",
]
