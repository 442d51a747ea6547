"""minitorch_cv.models: architectures built only from ``nn`` (they know nothing of
devices or kernels), constructible by name.

    from minitorch_cv import models
    model = models.resnet20()                     # or models.get_model("resnet20")
    models.list_models()

Files: registry.py (get_model, list_models), weight_init.py (He initialization and
zero-init of residual branches), resnet_cifar.py (He et al. 2015's CIFAR ResNets:
resnet20/32/44/56/110), resnet.py (CIFAR variants of torchvision's resnet18/34/50),
preact_resnet.py (pre-activation ResNet-18, He et al. 2016), densenet.py (DenseNet),
mobilenetv2.py (MobileNetV2), efficientnet.py (EfficientNet B0-B7),
vision_transformer.py (ViT), coatnet.py (CoAtNet); blocks.py holds
torchvision.ops.misc's Conv2dNormActivation and MLP.
"""
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
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
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
    "PadShortcut",
    "PreActBlock",
    "PreActResNet",
    "ResNet",
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
    "resnet110",
]
