"""DeformConv2d and ModulatedDeformConv2d: parameter shapes and names, default
initialisation, forward equal to the functional op, the DCNv2 layer's start as a plain
convolution, its gradients down to the offset predictor, bad arguments."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.gradcheck import check_backward
from minitorch_cv.nn import functional as F
from minitorch_cv.ops import deform_conv2d
from tests.helpers import DEVICES


def _random(shape, device="cpu", seed=0, scale=1.0):
    data = np.random.default_rng(seed).standard_normal(shape) * scale
    return mt.tensor(data, dtype=mt.float64, device=device)


@pytest.mark.parametrize("device", DEVICES)
def test_deform_conv2d_layer_shapes_and_forward(device):
    layer = nn.DeformConv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2,
                            device=device, dtype=mt.float64)
    assert layer.weight.shape == (6, 2, 3, 2) and layer.bias.shape == (6,)
    assert list(layer.state_dict()) == ["weight", "bias"]
    x, offset = _random((2, 4, 7, 6), device), _random((2, 2 * 6, 4, 4), device, seed=1)
    mask = _random((2, 6, 4, 4), device, seed=2)
    out = layer(x, offset, mask)
    expected = deform_conv2d(x, offset, layer.weight, layer.bias, (2, 1), (1, 0), (1, 2), mask=mask)
    assert out.shape == (2, 6, 4, 4)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    assert layer.weight.grad.shape == layer.weight.shape and layer.bias.grad.shape == (6,)
    assert repr(layer) == (
        "DeformConv2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)"
    )


def test_deform_conv2d_layer_default_initialization():
    """torchvision's: kaiming_uniform_(a=sqrt(5)), a bound of 1/sqrt(fan_in), as Conv2d."""
    mt.manual_seed(0)
    layer = nn.DeformConv2d(32, 64, (3, 5), groups=4)
    bound = 1 / math.sqrt(8 * 3 * 5)
    for values in (layer.weight.detach().numpy(), layer.bias.detach().numpy()):
        assert np.all(np.abs(values) <= bound) and values.std() > bound / 3
    assert nn.DeformConv2d(2, 2, 3, bias=False).bias is None


def test_modulated_layer_names_and_shapes():
    layer = nn.ModulatedDeformConv2d(8, 16, 3, padding=1, offset_groups=2, bias=False)
    assert list(layer.state_dict()) == ["weight", "conv_offset.weight", "conv_offset.bias"]
    assert layer.conv_offset.weight.shape == (3 * 2 * 9, 8, 3, 3)
    assert repr(layer) == (
        "ModulatedDeformConv2d(\n"
        "  8, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False, offset_groups=2\n"
        "  (conv_offset): Conv2d(8, 54, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        ")"
    )
    parameters = 16 * 8 * 9 + 54 * 8 * 9 + 54  # weight, conv_offset's weight and bias
    assert sum(p.numel() for p in layer.parameters()) == parameters


@pytest.mark.parametrize("device", DEVICES)
def test_modulated_layer_starts_as_half_a_plain_convolution(device):
    """conv_offset is zero: offsets 0 and masks sigmoid(0) = 1/2 at every tap."""
    layer = nn.ModulatedDeformConv2d(4, 6, (3, 2), stride=(1, 2), padding=1, device=device,
                                     dtype=mt.float64)
    assert np.all(layer.conv_offset.weight.detach().numpy() == 0) and np.all(layer.conv_offset.bias.detach().numpy() == 0)
    x = _random((2, 4, 6, 7), device)
    plain = F.conv2d(x, layer.weight, None, (1, 2), 1)
    expected = 0.5 * plain.detach().numpy() + layer.bias.detach().numpy().reshape(1, 6, 1, 1)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    layer.reset_parameters()  # resets the predictor too
    assert np.all(layer.conv_offset.weight.detach().numpy() == 0)


def test_modulated_layer_splits_the_prediction_into_offsets_then_masks():
    """A predictor with only a bias gives the same offsets and masks everywhere: the first
    2*OG*KH*KW channels are the offsets, the rest go through a sigmoid."""
    layer = nn.ModulatedDeformConv2d(2, 3, 2, dtype=mt.float64)
    values = np.random.default_rng(0).uniform(-1.5, 1.5, 12)
    layer.conv_offset.bias.array[...] = values
    x = _random((1, 2, 5, 4))
    offset = mt.tensor(np.broadcast_to(values[:8].reshape(1, 8, 1, 1), (1, 8, 4, 3)).copy())
    mask = mt.tensor(np.broadcast_to(1 / (1 + np.exp(-values[8:])).reshape(1, 4, 1, 1), (1, 4, 4, 3)).copy())
    expected = deform_conv2d(x, offset, layer.weight, layer.bias, mask=mask)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_modulated_layer_gradients_reach_the_offset_predictor():
    """Finite differences through predictor, sigmoid and deformable convolution, with a
    predictor moved away from zero (zero offsets put every sample on a pixel, a kink)."""
    layer = nn.ModulatedDeformConv2d(2, 3, 3, padding=1, dtype=mt.float64)
    layer.conv_offset.weight.array[...] = _random(layer.conv_offset.weight.shape, seed=3, scale=0.3).array
    x = _random((1, 2, 4, 5))

    def fn(x, weight, offset_weight, offset_bias):
        out = F.conv2d(x, offset_weight, offset_bias, padding=1)
        return deform_conv2d(x, out[:, :18], weight, mask=out[:, 18:].sigmoid(), padding=1)

    check_backward(fn, [x, layer.weight, layer.conv_offset.weight, layer.conv_offset.bias])
    layer(x).sum().backward()
    assert np.any(layer.conv_offset.weight.grad.numpy() != 0)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.DeformConv2d(3, 4, 3, groups=2), r"in_channels \(3\) must be divisible by groups \(2\)"),
        (lambda: nn.DeformConv2d(4, 3, 3, groups=2), r"out_channels \(3\) must be divisible by groups"),
        (lambda: nn.DeformConv2d(4, 4, 0), "kernel_size must be >= 1"),
        (lambda: nn.DeformConv2d(4, 4, 3, padding="same"), "padding must be an int or a pair"),
        (lambda: nn.ModulatedDeformConv2d(4, 4, 3, offset_groups=3), r"divisible by offset_groups \(3\)"),
        (lambda: nn.ModulatedDeformConv2d(4, 4, 3, offset_groups=0), "offset_groups must be >= 1"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
