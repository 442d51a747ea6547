"""nn.SqueezeExcitation: torchvision.ops' module tree and formula, custom activations,
float64 gradients with respect to the input and all four parameters."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from tests.helpers import DEVICES
from tests.module_gradcheck import check_module_backward


def numpy_se(layer, x, delta=lambda a: np.maximum(a, 0), sigma=lambda a: 1 / (1 + np.exp(-a))):
    """g * x with g = sigma(W2 delta(W1 mean_hw(x) + b1) + b2), in NumPy."""
    w1, b1 = layer.fc1.weight.detach().numpy()[:, :, 0, 0], layer.fc1.bias.detach().numpy()
    w2, b2 = layer.fc2.weight.detach().numpy()[:, :, 0, 0], layer.fc2.bias.detach().numpy()
    squeezed = x.mean(axis=(2, 3))                      # (N, C)
    hidden = delta(squeezed @ w1.T + b1)                # (N, S)
    gate = sigma(hidden @ w2.T + b2)                    # (N, C)
    return gate[:, :, None, None] * x


def test_module_tree_and_state_dict_keys_are_torchvision_s():
    layer = nn.SqueezeExcitation(12, 3)
    assert [name for name, _ in layer.named_children()] == [
        "avgpool", "fc1", "fc2", "activation", "scale_activation"]
    assert {k: tuple(v.shape) for k, v in layer.state_dict().items()} == {
        "fc1.weight": (3, 12, 1, 1), "fc1.bias": (3,),
        "fc2.weight": (12, 3, 1, 1), "fc2.bias": (12,)}
    assert isinstance(layer.activation, nn.ReLU)
    assert isinstance(layer.scale_activation, nn.Sigmoid)


def test_forward_matches_numpy():
    mt.manual_seed(0)
    layer = nn.SqueezeExcitation(6, 2).double()
    x = np.random.default_rng(1).standard_normal((3, 6, 5, 4))
    out = layer(mt.tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, numpy_se(layer, x), rtol=1e-12, atol=1e-14)


def test_custom_activations_as_mobilenet_v3_uses_them():
    mt.manual_seed(0)
    layer = nn.SqueezeExcitation(4, 8, activation=nn.SiLU, scale_activation=nn.Hardsigmoid).double()
    x = np.random.default_rng(2).standard_normal((2, 4, 3, 7))
    expected = numpy_se(layer, x, delta=lambda a: a / (1 + np.exp(-a)),
                        sigma=lambda a: np.clip(a + 3, 0, 6) / 6)
    np.testing.assert_allclose(layer(mt.tensor(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-14)


def test_the_gate_depends_on_the_input_not_on_the_batch():
    mt.manual_seed(3)
    layer = nn.SqueezeExcitation(5, 2)
    x = mt.randn(4, 5, 3, 3)
    np.testing.assert_allclose(layer(x[1:2]).detach().numpy(), layer(x).detach().numpy()[1:2], rtol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_float64(device):
    mt.manual_seed(4)
    layer = nn.SqueezeExcitation(6, 3).double().to(device)
    # non-square, batch 1 and a non-contiguous input
    for x in (mt.randn(2, 6, 3, 5, dtype=mt.float64, device=device),
              mt.randn(1, 6, 4, 2, dtype=mt.float64, device=device),
              mt.randn(5, 3, 6, 2, dtype=mt.float64, device=device).permute(3, 2, 1, 0)):
        check_module_backward(layer, [x])
    check_module_backward(layer, [mt.randn(2, 6, 2, 3, dtype=mt.float64, device=device)],
                          exhaustive=True)
