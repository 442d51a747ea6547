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
    lenet.py          LeNet-5 (LeCun et al. 1998): lenet5, lenet5(modern=True), lenet5_loss
    alexnet.py        alexnet (torchvision's), alexnet_original (Krizhevsky et al. 2012)
    zfnet.py          zfnet (Zeiler & Fergus 2013), renormalize_filters_
    vgg.py            vgg11 ... vgg19 and the _bn variants
    googlenet.py      googlenet (Inception v1), googlenet_loss
    inception.py      inception_v3
    resnet.py         torchvision's ResNet, ResNeXt and wide ResNet-50/101-2; cifar_resnet18/34/50
    deform_resnet.py  deform_resnet50: ResNet-50 with DCNv2's deformable 3x3 convolutions
    resnet_cifar.py   He et al. 2015's CIFAR ResNets: resnet20/32/44/56/110 (+ stochastic depth)
    preact_resnet.py  pre-activation ResNets (He et al. 2016): preact_resnet18/110/164
    wide_resnet.py    wide ResNets for CIFAR: wide_resnet(depth, k, dropout), wide_resnet16_8,
                      wide_resnet28_10, wide_resnet40_4
    se_resnet.py      squeeze-and-excitation ResNets: se_resnet50, se_resnet20
    blocks.py         torchvision.ops.misc's Conv2dNormActivation and MLP
    densenet.py       torchvision's densenet121/161/169/201; densenet_bc_100_k12 (CIFAR)
    mobilenetv2.py    torchvision's mobilenet_v2
    efficientnet.py   torchvision's efficientnet_b0 ... efficientnet_b7
    vision_transformer.py  torchvision's vit_b_16, vit_b_32, vit_l_16; vit_s_16, vit_ti_16
    coatnet.py        CoAtNet (Dai et al. 2021): coatnet_0
    segmentation/     dense prediction: U-Net, FCN, DeepLab(v3, v3+), hypercolumns
"""
from . import segmentation
from .alexnet import AlexNet, AlexNetOriginal, alexnet, alexnet_original
from .blocks import MLP, Conv2dNormActivation
from .coatnet import CoAtNet, coatnet_0
from .deform_resnet import deform_resnet50
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
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet, googlenet_loss
from .inception import Inception3, InceptionOutputs, inception_v3
from .lenet import LeNet5, lenet5, lenet5_loss
from .mobilenetv2 import InvertedResidual, MobileNetV2, mobilenet_v2
from .preact_resnet import (
    PreActBlock,
    PreActBottleneck,
    PreActResNet,
    preact_resnet18,
    preact_resnet110,
    preact_resnet164,
)
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
from .se_resnet import se_resnet20, se_resnet50
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
from .wide_resnet import wide_resnet, wide_resnet16_8, wide_resnet28_10, wide_resnet40_4
from .zfnet import ZFNet, renormalize_filters_, zfnet

__all__ = [
    "AlexNet",
    "AlexNetOriginal",
    "BasicBlock",
    "Bottleneck",
    "CifarBasicBlock",
    "CifarResNet",
    "CifarStemResNet",
    "CoAtNet",
    "Conv2dNormActivation",
    "DenseNet",
    "EfficientNet",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception3",
    "InceptionOutputs",
    "InvertedResidual",
    "LeNet5",
    "MBConv",
    "MBConvConfig",
    "MLP",
    "MobileNetV2",
    "PadShortcut",
    "PreActBlock",
    "PreActBottleneck",
    "PreActResNet",
    "ResNet",
    "VGG",
    "VisionTransformer",
    "ZFNet",
    "alexnet",
    "alexnet_original",
    "cifar_resnet18",
    "cifar_resnet34",
    "cifar_resnet50",
    "coatnet_0",
    "deform_resnet50",
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
    "get_model",
    "get_model_builder",
    "googlenet",
    "googlenet_loss",
    "inception_v3",
    "lenet5",
    "lenet5_loss",
    "list_models",
    "mobilenet_v2",
    "preact_resnet110",
    "preact_resnet164",
    "preact_resnet18",
    "register_model",
    "renormalize_filters_",
    "resnet101",
    "resnet110",
    "resnet152",
    "resnet18",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet44",
    "resnet50",
    "resnet56",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "resnext50_32x4d",
    "se_resnet20",
    "se_resnet50",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "vit_b_16",
    "vit_b_32",
    "vit_l_16",
    "vit_s_16",
    "vit_ti_16",
    "wide_resnet",
    "wide_resnet101_2",
    "wide_resnet16_8",
    "wide_resnet28_10",
    "wide_resnet40_4",
    "wide_resnet50_2",
    "zfnet",
]
