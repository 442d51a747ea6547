"""Linear, Identity, Flatten, Unflatten layers."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.nn import functional as F
from tests.helpers import DEVICES


@pytest.mark.parametrize("device", DEVICES)
def test_linear_forward_is_the_functional_op(device):
    layer = nn.Linear(5, 3, device=device, dtype=mt.float64)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.device == device and layer.weight.dtype == mt.float64
    x = mt.randn(2, 4, 5, dtype=mt.float64, device=device)
    expected = F.linear(x, layer.weight, layer.bias)
    np.testing.assert_array_equal(layer(x).detach().numpy(), expected.detach().numpy())


def test_linear_default_initialization_bounds():
    mt.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound


def test_linear_without_bias_and_repr():
    layer = nn.Linear(2, 3, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert repr(layer) == "Linear(in_features=2, out_features=3, bias=False)"


def test_linear_bad_arguments():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(3, 2.5)
    with pytest.raises(TypeError, match="floating point"):
        nn.Linear(3, 2, dtype=mt.int64)


def test_identity_flatten_unflatten():
    x = mt.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert nn.Unflatten(1, (3, 4))(mt.randn(2, 12, 5)).shape == (2, 3, 4, 5)
    assert nn.Unflatten(-1, (2, -1))(mt.randn(2, 12)).shape == (2, 2, 6)
    assert repr(nn.Unflatten(1, (3, 4))) == "Unflatten(dim=1, unflattened_size=(3, 4))"
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 12)
