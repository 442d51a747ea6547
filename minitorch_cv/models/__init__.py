"""minitorch_cv.models: architectures built only from ``nn`` (they know nothing of
devices or kernels), constructible by name.

    from minitorch_cv import models
    model = models.resnet20()                     # or models.get_model("resnet20")
    models.list_models()

Files: registry.py (get_model, list_models), weight_init.py (He initialization and
zero-init of residual branches), resnet_cifar.py (He et al. 2015's CIFAR ResNets:
resnet20/32/44/56/110), resnet.py (CIFAR variants of torchvision's resnet18/34/50),
preact_resnet.py (pre-activation ResNet-18, He et al. 2016); segmentation/ (dense
prediction: U-Net, FCN, DeepLab, hypercolumns).
"""
from . import segmentation
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

__all__ = [
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
