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
IMAGENET = (3, 32, 32)
CIFAR = (3, 32, 32)

ZOO = {
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
    # CIFAR stems of the same (resnet.py)
    "cifar_resnet18": Spec(11_173_962, CIFAR, 10),
    "cifar_resnet34": Spec(21_282_122, CIFAR, 10),
    "cifar_resnet50": Spec(23_520_842, CIFAR, 10),
    # VGG (vgg.py); 32x32 is its smallest input (five 2x2 pools)
    "vgg11": Spec(132_863_336, IMAGENET, 1000),
    "vgg11_bn": Spec(132_868_840, IMAGENET, 1000),
    "vgg13": Spec(133_047_848, IMAGENET, 1000),
    "vgg13_bn": Spec(133_053_736, IMAGENET, 1000),
    "vgg16": Spec(138_357_544, IMAGENET, 1000),
    "vgg16_bn": Spec(138_365_992, IMAGENET, 1000),
    "vgg19": Spec(143_667_240, IMAGENET, 1000),
    "vgg19_bn": Spec(143_678_248, IMAGENET, 1000),
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
    assert not np.allclose(first[0], first[1])  # and the two samples differ
