"""VGG (vgg.py): torchvision's layer numbering and state_dict keys, the configurations,
the initialization with and without ``init_weights``, and one training step. Counts and
shapes of every builder: test_zoo.py."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn
from minitorch_cv.models.vgg import CONFIGS, VGG, make_layers
from tests.models.training import loss_before_and_after_one_step


@pytest.fixture(scope="module")
def vgg11_bn():
    """Built once: 133M parameters. Tests that train it come last in this file."""
    mt.manual_seed(0)
    return models.vgg11_bn(num_classes=10)


def convolutions(config):
    return [entry for entry in config if entry != "M"]


@pytest.mark.parametrize("config, weight_layers", [("A", 11), ("B", 13), ("D", 16), ("E", 19)])
def test_configurations_have_the_paper_s_depth(config, weight_layers):
    assert len(convolutions(CONFIGS[config])) + 3 == weight_layers
    assert CONFIGS[config].count("M") == 5


def test_feature_numbering_is_torchvision_s():
    features = make_layers(CONFIGS["A"])
    # vgg11: conv, relu, pool, conv, relu, pool, conv, relu, conv, relu, pool, ...
    conv_indices = [i for i, layer in enumerate(features) if isinstance(layer, nn.Conv2d)]
    assert conv_indices == [0, 3, 6, 8, 11, 13, 16, 18]
    with_bn = make_layers(CONFIGS["A"], batch_norm=True)
    assert [i for i, layer in enumerate(with_bn) if isinstance(layer, nn.Conv2d)] == [
        0, 4, 8, 11, 15, 18, 22, 25]
    assert isinstance(with_bn[1], nn.BatchNorm2d) and isinstance(with_bn[3], nn.MaxPool2d)


def test_state_dict_keys(vgg11_bn):
    state = vgg11_bn.state_dict()
    assert list(state)[:7] == ["features.0.weight", "features.0.bias", "features.1.weight",
                               "features.1.bias", "features.1.running_mean",
                               "features.1.running_var", "features.1.num_batches_tracked"]
    assert list(state)[-6:] == ["classifier.0.weight", "classifier.0.bias", "classifier.3.weight",
                                "classifier.3.bias", "classifier.6.weight", "classifier.6.bias"]
    assert state["classifier.0.weight"].shape == (4096, 512 * 7 * 7)
    assert state["classifier.6.weight"].shape == (10, 4096)


def test_initialization_is_torchvision_s(vgg11_bn):
    conv = vgg11_bn.features[25]  # 512 -> 512, 3x3
    assert abs(conv.weight.detach().numpy().std() / math.sqrt(2 / (512 * 9)) - 1) < 0.01
    np.testing.assert_array_equal(conv.bias.detach().numpy(), 0)
    fc = vgg11_bn.classifier[3].weight.detach().numpy()  # N(0, 0.01): 16.8M draws
    assert abs(fc.std() / 0.01 - 1) < 0.002 and abs(fc.mean()) < 1e-4
    np.testing.assert_array_equal(vgg11_bn.classifier[6].bias.detach().numpy(), 0)
    np.testing.assert_array_equal(vgg11_bn.features[1].weight.detach().numpy(), 1)


def test_without_init_weights_layers_keep_pytorch_s_defaults():
    mt.manual_seed(0)
    model = VGG(make_layers([512, "M"]), num_classes=3, init_weights=False, dropout=0.25)
    bound = 1 / math.sqrt(4096)  # PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)), bias too
    last = model.classifier[6]
    assert np.abs(last.weight.detach().numpy()).max() <= bound
    assert np.abs(last.bias.detach().numpy()).max() > 0
    assert model.classifier[2].p == 0.25 and model.classifier[5].p == 0.25
    # one 2x2 pool leaves 16x16 maps; the adaptive pool makes them 7x7 for the classifier
    assert model(mt.randn(1, 3, 32, 32)).shape == (1, 3)


def test_dropout_only_in_training(vgg11_bn):
    images = mt.randn(2, 3, 32, 32)
    vgg11_bn.eval()
    with mt.no_grad():
        reference = vgg11_bn(images).numpy()
        vgg11_bn.train()
        mt.manual_seed(1)
        first = vgg11_bn(images).numpy()
        mt.manual_seed(2)
        second = vgg11_bn(images).numpy()
    assert not np.allclose(first, second)  # different dropout masks
    assert not np.allclose(first, reference)


def test_one_training_step_lowers_the_loss(vgg11_bn):
    images, labels = mt.randn(2, 3, 32, 32), mt.tensor([3, 8])
    before, after = loss_before_and_after_one_step(vgg11_bn, images, labels, lr=0.01)
    assert after < 0.9 * before, (before, after)
