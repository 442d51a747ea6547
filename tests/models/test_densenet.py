"""DenseNet: parameter counts (torchvision's and the paper's), torchvision's state_dict
names and initialization, shapes, eval determinism, memory_efficient giving the same
numbers as the plain path, and training steps lowering the loss."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn
from tests.models.zoo_testing import (
    assert_eval_deterministic,
    built,
    count,
    training_losses,
)
from tests.module_gradcheck import check_module_backward

# torchvision 0.28's figures (1000 classes) and the paper's CIFAR DenseNet-BC (10 classes)
PARAMETERS = {
    "densenet121": 7_978_856,
    "densenet161": 28_681_000,
    "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "densenet_bc_100_k12": 769_162,
}


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_parameter_count(name):
    assert count(built(name)) == PARAMETERS[name]


def densenet_bc_count(depth=100, k=12, classes=10):
    """Huang et al. 2017 by formula: every BN has 2C parameters, convolutions no bias."""
    c = 2 * k
    total = 3 * c * 3 * 3
    for block in range(3):
        for _ in range((depth - 4) // 6):
            total += 2 * c + c * 4 * k + 2 * 4 * k + 4 * k * k * 3 * 3
            c += k
        if block < 2:
            total += 2 * c + c * (c // 2)
            c //= 2
    return total + 2 * c + c * classes + classes


def test_cifar_count_follows_the_paper_formula():
    assert densenet_bc_count() == PARAMETERS["densenet_bc_100_k12"]
    assert count(models.densenet_bc_100_k12(num_classes=100)) == densenet_bc_count(classes=100)


def test_torchvision_state_dict_names():
    state = built("densenet121").state_dict()
    assert list(state)[:6] == [
        "features.conv0.weight", "features.norm0.weight", "features.norm0.bias",
        "features.norm0.running_mean", "features.norm0.running_var",
        "features.norm0.num_batches_tracked",
    ]
    assert state["features.denseblock1.denselayer1.norm1.weight"].shape == (64,)
    assert state["features.denseblock1.denselayer6.conv1.weight"].shape == (128, 224, 1, 1)
    assert state["features.denseblock1.denselayer6.conv2.weight"].shape == (32, 128, 3, 3)
    assert state["features.transition1.conv.weight"].shape == (128, 256, 1, 1)
    assert state["features.denseblock4.denselayer16.conv2.weight"].shape == (32, 128, 3, 3)
    assert state["features.norm5.running_var"].shape == (1024,)
    assert state["classifier.weight"].shape == (1000, 1024)
    assert len(state) == 727  # torchvision's densenet121 state_dict has 727 entries
    cifar = built("densenet_bc_100_k12").state_dict()
    assert cifar["features.conv0.weight"].shape == (24, 3, 3, 3)
    assert "features.norm0.weight" not in cifar and "features.transition3.conv.weight" not in cifar
    assert cifar["features.norm4.weight"].shape == (342,)


def test_initialization_is_torchvisions():
    model = built("densenet161")
    weight = model.features.denseblock3.denselayer36.conv1.weight.detach().numpy()  # (192, 2064, 1, 1)
    expected = math.sqrt(2.0 / 2064)  # kaiming_normal_: fan_in, gain sqrt(2)
    assert abs(weight.std() / expected - 1) < 0.01  # 396k draws: 0.1% standard error
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            np.testing.assert_array_equal(module.weight.detach().numpy(), 1)
            np.testing.assert_array_equal(module.bias.detach().numpy(), 0)
    np.testing.assert_array_equal(model.classifier.bias.detach().numpy(), 0)
    bound = 1 / math.sqrt(2208)  # Linear's default weight: U(-1/sqrt(in), 1/sqrt(in))
    assert 0.95 * bound < np.abs(model.classifier.weight.detach().numpy()).max() <= bound


@pytest.mark.parametrize("name, size", [("densenet121", 32), ("densenet_bc_100_k12", 16)])
def test_forward_shape_and_eval_determinism(name, size):
    model = built(name)
    mt.manual_seed(1)
    x = mt.randn(2, 3, size, size)
    assert_eval_deterministic(model, x)
    with mt.no_grad():
        assert model(x).shape == (2, 1000 if name == "densenet121" else 10)


def test_block_output_stacks_the_input_and_every_new_map():
    mt.manual_seed(2)
    block = models.densenet._DenseBlock(3, 5, bn_size=2, growth_rate=4, drop_rate=0).eval()
    x = mt.randn(2, 5, 6, 6)
    with mt.no_grad():
        out = block(x)
        first = block.denselayer1(x)
    assert out.shape == (2, 5 + 3 * 4, 6, 6)
    np.testing.assert_array_equal(out.detach().numpy()[:, :5], x.detach().numpy())  # the input is kept as is
    np.testing.assert_allclose(out.detach().numpy()[:, 5:9], first.detach().numpy(), rtol=1e-6)


def small_densenet(memory_efficient=False, drop_rate=0.0):
    mt.manual_seed(3)
    return models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=6, bn_size=2,
                           drop_rate=drop_rate, num_classes=3, memory_efficient=memory_efficient,
                           small_inputs=True).double()


@pytest.mark.parametrize("memory_efficient", [False, True])
def test_dense_layer_gradients(memory_efficient):
    # the second layer of the second block reads 2 maps (7 + 4 channels), concatenated
    layer = small_densenet(memory_efficient).features.denseblock2.denselayer2
    rng = np.random.default_rng(4)
    maps = [mt.tensor(rng.standard_normal((2, c, 4, 3))) for c in (7, 4)]
    check_module_backward(layer, maps, call=lambda module, *xs: module(list(xs)))


@pytest.mark.parametrize("training", [True, False])
def test_memory_efficient_gives_the_same_outputs_and_gradients(training):
    plain, efficient = small_densenet(), small_densenet(memory_efficient=True)
    x = mt.tensor(np.random.default_rng(5).standard_normal((3, 3, 8, 8)))
    results = []
    for model in (plain, efficient):
        model.train(training)
        out = model(x)
        out.sum().backward()
        results.append([out.detach().numpy()] + [p.grad.detach().numpy() for p in model.parameters()])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_training_steps_lower_the_loss():
    mt.manual_seed(6)
    images, labels = mt.randn(8, 3, 12, 12), mt.randint(0, 3, (8,))
    model = small_densenet().float()
    losses = training_losses(model, images, labels, steps=5, lr=0.2)
    assert losses[-1] < 0.8 * losses[0], losses


def test_dropout_after_each_layer_only_in_training():
    model = small_densenet(drop_rate=0.5)
    x = mt.randn(4, 3, 8, 8, dtype=mt.float64)
    model.train()
    with mt.no_grad():
        assert not np.allclose(model(x).detach().numpy(), model(x).detach().numpy())
    assert_eval_deterministic(model, x)


def test_pretrained_weights_are_refused():
    with pytest.raises(ValueError, match="weights: pretrained weights are not distributed"):
        models.densenet121(weights="IMAGENET1K_V1")
