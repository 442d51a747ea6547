"""AlexNet (torchvision's and the paper's) and ZFNet: layer sizes and parameters per
layer, the two-GPU groups, the LRN constants, the papers' initializations, the input
size check, Zeiler & Fergus's filter renormalization, and one training step each."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn
from tests.models.training import loss_before_and_after_one_step


def count(module):
    return sum(p.numel() for p in module.parameters())


def layers(sequential, kind):
    return [m for m in sequential if isinstance(m, kind)]


def map_sizes(model, image_size):
    """Output (C, H, W) of every max-pool of ``model.features``."""
    sizes = []
    for layer in layers(model.features, nn.MaxPool2d):
        layer.register_forward_hook(lambda m, args, out: sizes.append(tuple(out.shape[1:])))
    with mt.no_grad():
        model.features(mt.randn(1, 3, image_size, image_size))
    return sizes


@pytest.fixture(scope="module")
def original():
    mt.manual_seed(0)
    return models.alexnet_original()


@pytest.fixture(scope="module")
def torchvision_alexnet():
    mt.manual_seed(0)
    return models.alexnet(num_classes=10, dropout=0.3)


@pytest.fixture(scope="module")
def zf():
    mt.manual_seed(0)
    return models.zfnet(num_classes=10)


def test_alexnet_original_layers(original):
    convs = layers(original.features, nn.Conv2d)
    assert [c.out_channels for c in convs] == [96, 256, 384, 384, 256]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]  # conv3 sees both GPUs' maps
    assert [count(c) for c in convs] == [34_944, 307_456, 885_120, 663_936, 442_624]
    fcs = layers(original.classifier, nn.Linear)
    assert [count(f) for f in fcs] == [37_752_832, 16_781_312, 4_097_000]
    assert count(original) == 60_965_224
    assert map_sizes(original, 224) == [(96, 27, 27), (256, 13, 13), (256, 6, 6)]
    # the response normalizations follow the ReLUs of conv1 and conv2, before the pools
    kinds = [type(m).__name__ for m in original.features]
    assert kinds[:8] == ["Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d",
                         "Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d"]
    # dropout after fc6 and fc7 (the paper's "first two fully-connected layers")
    assert [type(m).__name__ for m in original.classifier] == [
        "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]


def test_lrn_is_the_paper_s_formula(original):
    lrn = original.features[2]
    # PyTorch's layer divides alpha by the size; the paper's alpha = 1e-4 does not.
    assert (lrn.size, lrn.alpha / lrn.size, lrn.beta, lrn.k) == (5, pytest.approx(1e-4), 0.75, 2)
    x = np.random.default_rng(0).standard_normal((1, 7, 2, 2))
    out = lrn(mt.tensor(x)).numpy()
    c = 3  # an inner channel: the window is channels 1 ... 5
    expected = x[0, c] / (2 + 1e-4 * (x[0, 1:6] ** 2).sum(0)) ** 0.75
    np.testing.assert_allclose(out[0, c], expected, rtol=1e-12)


def test_alexnet_original_initialization(original):
    convs = layers(original.features, nn.Conv2d)
    fcs = layers(original.classifier, nn.Linear)
    ones = [convs[1], convs[3], convs[4], fcs[0], fcs[1]]
    zeros = [convs[0], convs[2], fcs[2]]
    for layer in ones:
        np.testing.assert_array_equal(layer.bias.detach().numpy(), 1)
    for layer in zeros:
        np.testing.assert_array_equal(layer.bias.detach().numpy(), 0)
    fc6 = fcs[0].weight.detach().numpy()
    assert abs(fc6.std() / 0.01 - 1) < 0.002 and abs(fc6.mean()) < 1e-4


def test_alexnet_original_needs_224_inputs(original):
    with pytest.raises(ValueError, match="input: alexnet_original needs 224x224 images"):
        original(mt.randn(1, 3, 200, 200))


def test_torchvision_alexnet_layers(torchvision_alexnet):
    model = torchvision_alexnet
    assert [c.out_channels for c in layers(model.features, nn.Conv2d)] == [64, 192, 384, 256, 256]
    assert [type(m).__name__ for m in model.classifier] == [
        "Dropout", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Linear"]
    assert model.classifier[0].p == 0.3
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in model.modules())
    assert model(mt.randn(1, 3, 63, 63)).shape == (1, 10)  # torchvision's smallest input
    with pytest.raises(ValueError, match="weights: pretrained weights are not distributed"):
        models.alexnet(weights="DEFAULT")


def test_alexnet_one_training_step_lowers_the_loss(torchvision_alexnet):
    images, labels = mt.randn(4, 3, 64, 64), mt.tensor([1, 2, 3, 4])
    before, after = loss_before_and_after_one_step(torchvision_alexnet, images, labels, lr=0.05)
    assert after < before, (before, after)


def test_zfnet_layers(zf):
    convs = layers(zf.features, nn.Conv2d)
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (96, (7, 7), (2, 2)), (256, (5, 5), (2, 2)), (384, (3, 3), (1, 1)),
        (384, (3, 3), (1, 1)), (256, (3, 3), (1, 1))]
    assert all(c.groups == 1 for c in convs)  # dense: one GPU
    # figure 3 of the paper: 110 -> 55 after pool 1, 26 -> 13 after pool 2, 13 -> 6
    conv1_size = []
    convs[0].register_forward_hook(lambda m, a, out: conv1_size.append(out.shape[2:]))
    assert map_sizes(zf, 224) == [(96, 55, 55), (256, 13, 13), (256, 6, 6)]
    assert conv1_size == [(110, 110)]
    assert count(zf) == 62_357_608 - 4096 * (1000 - 10) - (1000 - 10)  # 10 classes here
    weights = convs[3].weight.detach().numpy()
    assert abs(weights.std() / 0.01 - 1) < 0.01
    np.testing.assert_array_equal(convs[3].bias.detach().numpy(), 0)


def test_renormalize_filters_scales_large_filters_to_the_radius():
    conv = nn.Conv2d(3, 4, (2, 3), groups=1).double()
    weight = np.random.default_rng(0).standard_normal((4, 3, 2, 3))
    weight[0] *= 0.01  # RMS ~0.01: left alone
    weight[2] *= 0.05
    conv.weight.array[...] = weight
    model = nn.Sequential(conv, nn.ReLU(), nn.Conv2d(4, 2, 1).double())
    model[2].weight.array[...] = 0.02
    assert models.renormalize_filters_(model) == 2  # filters 1 and 3 of the first conv
    after = conv.weight.detach().numpy()
    rms = np.sqrt((after.reshape(4, -1) ** 2).mean(1))
    np.testing.assert_allclose(rms[[1, 3]], 0.1, rtol=1e-12)
    np.testing.assert_array_equal(after[[0, 2]], weight[[0, 2]])
    np.testing.assert_allclose(after[1] / weight[1], 0.1 / np.sqrt((weight[1] ** 2).mean()))
    np.testing.assert_array_equal(model[2].weight.detach().numpy(), 0.02)
    with pytest.raises(ValueError, match="radius"):
        models.renormalize_filters_(model, radius=0)


def test_zfnet_training_step_with_renormalization(zf):
    images, labels = mt.randn(2, 3, 224, 224), mt.tensor([2, 7])
    before, after = loss_before_and_after_one_step(zf, images, labels, lr=0.05)
    assert after < before, (before, after)
    models.renormalize_filters_(zf)
    for conv in layers(zf.features, nn.Conv2d):
        w = conv.weight.detach().numpy()
        assert np.sqrt((w.reshape(w.shape[0], -1) ** 2).mean(1)).max() <= 0.1 * (1 + 1e-6)
    with pytest.raises(ValueError, match="input: zfnet needs 224x224 images"):
        zf(mt.randn(1, 3, 180, 180))
