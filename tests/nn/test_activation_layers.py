"""Activation layers: each equals its functional op; reprs; Softmax's dim."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.nn import functional as F


def _input():
    # values away from the kinks at 0, +-3 and 6
    data = np.random.default_rng(0).uniform(-8, 8, size=(3, 4, 5))
    data[np.abs(data) < 0.1] += 0.5
    return mt.tensor(data, dtype=mt.float64)


CASES = [
    (nn.ReLU(), F.relu),
    (nn.ReLU6(), F.relu6),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
    (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
    (nn.GELU(), F.gelu),
    (nn.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh")),
    (nn.SiLU(), F.silu),
    (nn.Hardswish(), F.hardswish),
    (nn.Hardsigmoid(), F.hardsigmoid),
    (nn.Hardtanh(-2.0, 2.0), lambda x: F.hardtanh(x, -2.0, 2.0)),
    (nn.Softplus(2.0, 10.0), lambda x: F.softplus(x, 2.0, 10.0)),
    (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh),
    (nn.Softmax(dim=1), lambda x: F.softmax(x, 1)),
    (nn.LogSoftmax(dim=-1), lambda x: F.log_softmax(x, -1)),
]


@pytest.mark.parametrize("layer, function", CASES, ids=[repr(c[0]) for c in CASES])
def test_activation_layer_is_its_function(layer, function):
    x = _input()
    before = x.numpy().copy()
    np.testing.assert_array_equal(layer(x).numpy(), function(x).numpy())
    np.testing.assert_array_equal(x.numpy(), before)  # out of place: the input is unchanged
    assert list(layer.parameters()) == []


def test_activation_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"


def test_softmax_without_dim_warns_and_uses_pytorchs_choice():
    x = _input()
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(x)  # 3-D input: dim 0
    np.testing.assert_array_equal(out.numpy(), F.softmax(x, 0).numpy())
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.LogSoftmax()(x[0])  # 2-D input: dim 1
    np.testing.assert_array_equal(out.numpy(), F.log_softmax(x[0], 1).numpy())
