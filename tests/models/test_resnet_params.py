"""CIFAR ResNet architectures without running them: parameter counts from the papers'
formulas, torchvision's state_dict names, initialization, the registry."""
import functools
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn


def count(model):
    return sum(p.numel() for p in model.parameters())


@functools.lru_cache(maxsize=None)
def built(name, **kwargs):
    """One model per (name, options) for the whole module: building resnet50 draws 23M
    random weights (~1 s). Tests only read these models."""
    mt.manual_seed(0)
    return models.get_model(name, **kwargs)


# ------------------------------------------------------------- counts by formula
def conv(c_in, c_out, k):
    return c_in * c_out * k * k  # no bias: a BN follows every convolution


def bn(c):
    return 2 * c  # weight and bias (running statistics are buffers, not parameters)


def cifar_resnet_count(n, shortcut, classes=10, widths=(16, 32, 64)):
    """He et al. 2015, section 4.2: stem conv + 3 stages of n two-conv blocks + fc."""
    total = conv(3, widths[0], 3) + bn(widths[0])
    c_in = widths[0]
    for c in widths:
        for _ in range(n):
            total += conv(c_in, c, 3) + bn(c) + conv(c, c, 3) + bn(c)
            if c_in != c and shortcut == "B":
                total += conv(c_in, c, 1) + bn(c)
            c_in = c
    return total + widths[-1] * classes + classes


def imagenet_style_count(blocks, bottleneck, classes=10):
    """torchvision's ResNet with a 3x3 stem: projection shortcuts where the shape changes."""
    expansion = 4 if bottleneck else 1
    total = conv(3, 64, 3) + bn(64)
    c_in = 64
    for stage, (width, count_) in enumerate(zip((64, 128, 256, 512), blocks)):
        for block in range(count_):
            c_out = width * expansion
            if bottleneck:
                total += conv(c_in, width, 1) + bn(width) + conv(width, width, 3) + bn(width)
                total += conv(width, c_out, 1) + bn(c_out)
            else:
                total += conv(c_in, width, 3) + bn(width) + conv(width, width, 3) + bn(width)
            stride = 2 if stage > 0 and block == 0 else 1
            if stride != 1 or c_in != c_out:
                total += conv(c_in, c_out, 1) + bn(c_out)
            c_in = c_out
    return total + c_in * classes + classes


def preact_count(blocks, classes=10):
    """He et al. 2016: the stem conv has no BN after it, each block has BN in front of
    both convolutions, a projection is a bare 1x1 conv, and a final BN precedes the pool."""
    total = conv(3, 64, 3)
    c_in = 64
    for width, count_ in zip((64, 128, 256, 512), blocks):
        for _ in range(count_):
            total += bn(c_in) + conv(c_in, width, 3) + bn(width) + conv(width, width, 3)
            if c_in != width:
                total += conv(c_in, width, 1)
            c_in = width
    return total + bn(512) + 512 * classes + classes


@pytest.mark.parametrize("name, n", [("resnet20", 3), ("resnet32", 5), ("resnet44", 7),
                                     ("resnet56", 9), ("resnet110", 18)])
@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_cifar_resnet_parameter_counts(name, n, shortcut):
    assert count(built(name, shortcut=shortcut)) == cifar_resnet_count(n, shortcut)


def test_resnet20_option_a_has_269722_parameters():
    # The paper's table 6 says 0.27M; 269,722 is the exact count of this architecture.
    assert count(built("resnet20")) == 269_722


def test_paper_sizes_of_deeper_cifar_resnets():
    # Table 6 of He et al. 2015: 0.46M, 0.66M, 0.85M, 1.7M.
    for name, millions in [("resnet32", 0.46), ("resnet44", 0.66), ("resnet56", 0.85),
                           ("resnet110", 1.7)]:
        assert round(count(built(name)) / 1e6, 2 if millions < 1 else 1) == millions


@pytest.mark.parametrize("name, blocks, bottleneck, known", [
    ("cifar_resnet18", [2, 2, 2, 2], False, 11_173_962),
    ("cifar_resnet34", [3, 4, 6, 3], False, 21_282_122),
    ("cifar_resnet50", [3, 4, 6, 3], True, 23_520_842),
])
def test_cifar_variants_of_imagenet_resnets(name, blocks, bottleneck, known):
    assert count(built(name)) == imagenet_style_count(blocks, bottleneck) == known


def test_preact_resnet18_parameter_count():
    assert count(built("preact_resnet18")) == preact_count([2, 2, 2, 2])


@pytest.mark.parametrize("name", ["resnet20", "cifar_resnet18", "preact_resnet18"])
def test_num_classes_sets_the_classifier(name):
    model = models.get_model(name, num_classes=100)
    assert model.fc.weight.shape[0] == 100 and model.fc.bias.shape == (100,)
    assert count(model) == count(built(name)) + (100 - 10) * (model.fc.weight.shape[1] + 1)


# ------------------------------------------------------------------- state_dict
def torchvision_resnet18_keys():
    """torchvision.models.resnet18().state_dict().keys() (cifar_resnet18's too: the stem
    differs in shape only), written out from its source:
    stem, four stages of two BasicBlocks (downsample in the first block of stages 2-4), fc."""
    def bn_keys(prefix):
        return [f"{prefix}.{k}" for k in ("weight", "bias", "running_mean", "running_var",
                                          "num_batches_tracked")]

    keys = ["conv1.weight"] + bn_keys("bn1")
    for stage in range(1, 5):
        for block in range(2):
            p = f"layer{stage}.{block}"
            keys += [f"{p}.conv1.weight"] + bn_keys(f"{p}.bn1")
            keys += [f"{p}.conv2.weight"] + bn_keys(f"{p}.bn2")
            if stage > 1 and block == 0:
                keys += [f"{p}.downsample.0.weight"] + bn_keys(f"{p}.downsample.1")
    return keys + ["fc.weight", "fc.bias"]


def test_cifar_resnet18_state_dict_uses_torchvision_names_in_order():
    state = built("cifar_resnet18").state_dict()
    assert list(state) == torchvision_resnet18_keys()
    assert state["conv1.weight"].shape == (64, 3, 3, 3)  # CIFAR stem: 3x3, not 7x7
    assert state["layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1)
    assert state["layer4.1.conv2.weight"].shape == (512, 512, 3, 3)
    assert state["fc.weight"].shape == (10, 512)


def test_cifar_resnet50_bottleneck_names_and_shapes():
    state = built("cifar_resnet50").state_dict()
    assert state["layer1.0.conv1.weight"].shape == (64, 64, 1, 1)
    assert state["layer1.0.conv2.weight"].shape == (64, 64, 3, 3)
    assert state["layer1.0.conv3.weight"].shape == (256, 64, 1, 1)
    assert state["layer1.0.downsample.0.weight"].shape == (256, 64, 1, 1)  # channels change
    assert "layer1.1.downsample.0.weight" not in state
    assert state["layer4.0.downsample.0.weight"].shape == (2048, 1024, 1, 1)
    assert state["fc.weight"].shape == (10, 2048)


def test_cifar_resnet_shortcut_options_in_state_dict():
    a = built("resnet20", shortcut="A").state_dict()
    b = built("resnet20", shortcut="B").state_dict()
    assert not any("downsample" in key for key in a)  # option A has no parameters
    assert b["layer2.0.downsample.0.weight"].shape == (32, 16, 1, 1)
    assert b["layer3.0.downsample.1.running_var"].shape == (64,)
    assert set(a) < set(b)


def test_state_dict_round_trip_between_two_models():
    mt.manual_seed(1)
    source = models.resnet20()
    mt.manual_seed(2)
    target = models.resnet20()
    target.load_state_dict(source.state_dict())
    for (name, p), q in zip(source.state_dict().items(), target.state_dict().values()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


# ----------------------------------------------------------------- initialization
def test_convolutions_get_he_normal_fan_out():
    weight = built("cifar_resnet18").layer4[1].conv2.weight.detach().numpy()  # (512, 512, 3, 3)
    expected = math.sqrt(2.0 / (512 * 3 * 3))  # fan_out = K * KH * KW
    # 2.4M draws: the sample std is within 0.2% of the true one (many standard errors).
    assert abs(weight.std() / expected - 1) < 0.005
    assert abs(weight.mean()) < expected * 0.005
    assert weight.dtype == np.float32


@pytest.mark.parametrize("name", ["resnet20", "cifar_resnet18", "cifar_resnet50", "preact_resnet18"])
def test_batch_norms_start_at_one_and_zero(name):
    norms = [m for m in built(name).modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms
    for norm in norms:
        np.testing.assert_array_equal(norm.weight.detach().numpy(), 1)
        np.testing.assert_array_equal(norm.bias.detach().numpy(), 0)


def small_bottleneck_resnet(zero_init_residual=False):
    return models.CifarStemResNet(models.Bottleneck, [1, 1, 1, 1],
                                  zero_init_residual=zero_init_residual)


@pytest.mark.parametrize("name, last", [("resnet20", "bn2"), ("cifar_resnet18", "bn2"),
                                        ("bottleneck", "bn3"), ("preact_resnet18", "conv2")])
def test_zero_init_residual_zeroes_the_end_of_every_branch(name, last):
    if name == "bottleneck":  # resnet50's block, in a 4-block network (faster to build)
        default, zeroed = small_bottleneck_resnet(), small_bottleneck_resnet(True)
    else:
        default, zeroed = built(name), models.get_model(name, zero_init_residual=True)
    blocks = [m for m in zeroed.modules() if hasattr(m, "zero_init_last")]
    assert len(blocks) == len([m for m in default.modules() if hasattr(m, "zero_init_last")]) > 0
    for block in blocks:
        np.testing.assert_array_equal(getattr(block, last).weight.detach().numpy(), 0)
    # without the option nothing is zero
    for block in (m for m in default.modules() if hasattr(m, "zero_init_last")):
        assert np.all(getattr(block, last).weight.detach().numpy() != 0)


def test_same_seed_same_weights():
    mt.manual_seed(7)
    first = models.resnet20().state_dict()
    mt.manual_seed(7)
    second = models.resnet20().state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key].numpy(), second[key].numpy())


# ----------------------------------------------------------------------- registry
def test_list_models_has_every_architecture():
    expected = {"resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "cifar_resnet18",
                "cifar_resnet34", "cifar_resnet50", "preact_resnet18", "resnet18", "resnet34",
                "resnet50", "resnet101", "resnet152"}
    assert expected <= set(models.list_models())
    assert models.list_models() == sorted(models.list_models())
    assert set(models.list_models(include="resnet*")) == {
        name for name in expected if name.startswith("resnet")}


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'resnet21'.*resnet20"):
        models.get_model("resnet21")


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="shortcut"):
        models.resnet20(shortcut="C")
    with pytest.raises(TypeError):
        models.get_model("cifar_resnet18", shortcut="A")  # only He's CIFAR ResNets have options A/B
    with pytest.raises(ValueError, match="already registered"):
        models.register_model(lambda num_classes=10: None, name="resnet20")
