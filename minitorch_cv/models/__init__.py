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
    segmentation/     dense prediction: U-Net, FCN, DeepLab(v3, v3+), hypercolumns
"""
from . import segmentation
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

__all__ = [
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
