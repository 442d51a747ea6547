"""Every model of the zoo (issue 14's families): its parameter count to the unit, the
output shape at a small input, and deterministic eval outputs that do not depend on the
rest of the batch.

The counts are the published figures: torchvision's (its weights' ``num_params``) for
torchvision's names, the papers' (or the issue's) for the others. Each model is built
once, in its own test, and dropped afterwards: the big ones hold 100M+ parameters.
"""
from collections import namedtuple

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models

# input: (C, H, W), the smallest convenient one the architecture accepts; classes: the
# default num_classes; kwargs: constructor arguments.
Spec = namedtuple("Spec", ["parameters", "input", "classes", "kwargs"], defaults=[{}])
IMAGENET = (3, 32, 32)  # 1x1 maps after the last stage of the ResNets; VGG's smallest input
CIFAR = (3, 8, 8)  # fully convolutional: 2x2 maps after the last stage, and quick
NO_INIT = {"init_weights": False}

ZOO = {
    # the classic networks
    "lenet5": Spec(60_000, (1, 32, 32), 10),
    "alexnet": Spec(61_100_840, (3, 64, 64), 1000),  # torchvision's smallest is 63x63
    "alexnet_original": Spec(60_965_224, (3, 224, 224), 1000),
    "zfnet": Spec(62_357_608, (3, 224, 224), 1000),
    "googlenet": Spec(13_004_888, IMAGENET, 1000),
    "inception_v3": Spec(27_161_264, (3, 75, 75), 1000),  # its smallest input
    # He et al.'s CIFAR ResNets (resnet_cifar.py), option A shortcuts
    "resnet20": Spec(269_722, CIFAR, 10),
    "resnet32": Spec(464_154, CIFAR, 10),
    "resnet44": Spec(658_586, CIFAR, 10),
    "resnet56": Spec(853_018, CIFAR, 10),
    "resnet110": Spec(1_727_962, CIFAR, 10),
    # pre-activation, wide and squeeze-and-excitation ResNets
    "preact_resnet18": Spec(11_172_170, CIFAR, 10),
    "preact_resnet110": Spec(1_730_522, CIFAR, 10),
    "preact_resnet164": Spec(1_703_258, CIFAR, 10),
    "wide_resnet16_8": Spec(10_961_370, CIFAR, 10),
    "wide_resnet28_10": Spec(36_479_194, CIFAR, 10),
    "wide_resnet40_4": Spec(8_949_210, CIFAR, 10),
    "se_resnet20": Spec(272_095, CIFAR, 10),
    "se_resnet50": Spec(28_088_024, IMAGENET, 1000),
    # torchvision's ImageNet ResNets (resnet.py)
    "resnet18": Spec(11_689_512, IMAGENET, 1000),
    "resnet34": Spec(21_797_672, IMAGENET, 1000),
    "resnet50": Spec(25_557_032, IMAGENET, 1000),
    "resnet101": Spec(44_549_160, IMAGENET, 1000),
    "resnet152": Spec(60_192_808, IMAGENET, 1000),
    "resnext50_32x4d": Spec(25_028_904, IMAGENET, 1000),
    "resnext101_32x8d": Spec(88_791_336, IMAGENET, 1000),
    "resnext101_64x4d": Spec(83_455_272, IMAGENET, 1000),
    "wide_resnet50_2": Spec(68_883_240, IMAGENET, 1000),
    "wide_resnet101_2": Spec(126_886_696, IMAGENET, 1000),
    # the same with a CIFAR stem (resnet.py)
    "cifar_resnet18": Spec(11_173_962, CIFAR, 10),
    "cifar_resnet34": Spec(21_282_122, CIFAR, 10),
    "cifar_resnet50": Spec(23_520_842, CIFAR, 10),
    # VGG (vgg.py); 32x32 is its smallest input (five 2x2 pools). Built without its own
    # initialization (torchvision's init_weights=False, as when weights are loaded): it
    # redraws 120M values; test_vgg.py checks it on vgg11_bn.
    "vgg11": Spec(132_863_336, IMAGENET, 1000, NO_INIT),
    "vgg11_bn": Spec(132_868_840, IMAGENET, 1000, NO_INIT),
    "vgg13": Spec(133_047_848, IMAGENET, 1000, NO_INIT),
    "vgg13_bn": Spec(133_053_736, IMAGENET, 1000, NO_INIT),
    "vgg16": Spec(138_357_544, IMAGENET, 1000, NO_INIT),
    "vgg16_bn": Spec(138_365_992, IMAGENET, 1000, NO_INIT),
    "vgg19": Spec(143_667_240, IMAGENET, 1000, NO_INIT),
    "vgg19_bn": Spec(143_678_248, IMAGENET, 1000, NO_INIT),
}


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_every_model_of_the_table_is_registered():
    assert set(ZOO) <= set(models.list_models())


@pytest.mark.parametrize("name", sorted(ZOO))
def test_count_shape_and_eval_determinism(name):
    spec = ZOO[name]
    mt.manual_seed(0)
    model = models.get_model(name, **spec.kwargs)
    assert count(model) == spec.parameters

    model.eval()
    images = mt.randn(2, *spec.input)
    with mt.no_grad():
        first = model(images).numpy()
        second = model(images).numpy()
        alone = model(images[1:]).numpy()
    assert first.shape == (2, spec.classes)
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)  # eval: no randomness, no state change
    # eval: a sample's output does not depend on the batch (float32 sums in another order)
    np.testing.assert_allclose(alone, first[1:], rtol=1e-4, atol=1e-5 * np.abs(first).max())
    assert not np.array_equal(first[0], first[1])  # the output depends on the input
