"""Elementwise unary ops and activations: one table drives forward and gradient tests.

Each entry: the op, an independent NumPy formula, the input range, and the kinks the
drawn values must stay away from (where the derivative jumps).
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES, assert_close
from tests.strategies import arrays, layouts, make_tensor, shapes

F = mt.nn.functional
_erf = np.vectorize(math.erf)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


# name: (op, numpy formula, (low, high), kinks)
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, (-3, 3), ()),
    "exp": (mt.exp, np.exp, (-3, 3), ()),
    "log": (mt.log, np.log, (0.1, 4), ()),
    "sqrt": (mt.sqrt, np.sqrt, (0.1, 4), ()),
    "abs": (mt.abs, np.abs, (-3, 3), (0.0,)),
    "tanh": (mt.tanh, np.tanh, (-3, 3), ()),
    "sigmoid": (mt.sigmoid, _np_sigmoid, (-6, 6), ()),
    "clamp": (lambda x: mt.clamp(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0), (-2, 2), (-0.5, 1.0)),
    "clamp_min": (lambda x: x.clamp(min=0.25), lambda x: np.maximum(x, 0.25), (-2, 2), (0.25,)),
    "relu": (F.relu, lambda x: np.maximum(x, 0), (-2, 2), (0.0,)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6), (-2, 8), (0.0, 6.0)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), (-2, 2), (-0.5, 0.5)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), (-2, 2), (0.0,)),
    "elu": (lambda x: F.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x)), (-3, 3), (0.0,)),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), (-4, 4), ()),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        (-4, 4),
        (),
    ),
    "silu": (F.silu, lambda x: x * _np_sigmoid(x), (-5, 5), ()),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, (-5, 5), (-3.0, 3.0)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6, (-5, 5), (-3.0, 3.0)),
    "softplus": (F.softplus, _np_softplus, (-5, 5), ()),
    "softplus_beta": (
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: _np_softplus(x, 2.0, 3.0),
        (-3, 3),
        (1.5,),  # the switch to identity at beta*x = threshold is a (tiny) kink
    ),
    "square": (lambda x: x**2, lambda x: x**2, (-3, 3), ()),
    "cube_root": (lambda x: x ** (1 / 3), lambda x: x ** (1 / 3), (0.2, 3), ()),
    "reciprocal": (lambda x: 1 / x, lambda x: 1 / x, (0.5, 3), ()),
    "rpow": (lambda x: 2**x, lambda x: 2**x, (-2, 2), ()),
    "rsub": (lambda x: 1.5 - x, lambda x: 1.5 - x, (-2, 2), ()),
}


def _draw(data, name, dtype, min_dims=0):
    low, high = UNARY[name][2]
    shape = data.draw(shapes(min_dims=min_dims), label="shape")
    values = data.draw(arrays(shape, np.float64, low, high, kinks=UNARY[name][3]), label="values")
    return values.astype(dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_forward_matches_numpy(name, device, data):
    op, reference, _, _ = UNARY[name]
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    values = _draw(data, name, dtype)
    layout = data.draw(layouts(), label="layout")
    out = op(make_tensor(values, device, layout))
    assert out.dtype == dtype, "elementwise ops keep the input dtype"
    assert out.shape == values.shape
    assert out.device == device
    assert_close(out, reference(values.astype(np.float64)).astype(dtype), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_gradient_matches_finite_differences(name, device, data):
    op = UNARY[name][0]
    values = _draw(data, name, np.float64)
    layout = data.draw(layouts(), label="layout")
    check_backward(op, [make_tensor(values, device, layout)])


@pytest.mark.parametrize("device", DEVICES)
def test_kink_conventions_match_pytorch(device):
    """At the kinks PyTorch picks: relu'(0) = 0, abs'(0) = 0, clamp passes the gradient
    at its bounds, hardtanh/relu6 do not."""
    x = mt.tensor([0.0, -0.5, 1.0, 6.0], device=device, requires_grad=True)
    cases = {
        "relu": (F.relu, [0.0, 0.0, 1.0, 1.0]),
        "abs": (mt.abs, [0.0, -1.0, 1.0, 1.0]),
        "clamp": (lambda t: t.clamp(-0.5, 1.0), [1.0, 1.0, 1.0, 0.0]),
        "relu6": (F.relu6, [0.0, 0.0, 1.0, 0.0]),
        "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.0), [1.0, 0.0, 0.0, 0.0]),
    }
    for name, (op, expected) in cases.items():
        x.grad = None
        op(x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), expected, err_msg=name)


@pytest.mark.parametrize("device", DEVICES)
def test_sigmoid_and_softplus_are_stable_for_large_inputs(device):
    x = mt.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], device=device, requires_grad=True)
    s = mt.sigmoid(x)
    assert np.all(np.isfinite(s.detach().numpy()))
    np.testing.assert_allclose(s.detach().numpy(), [0.0, _np_sigmoid(-50.0), 0.5, 1.0, 1.0], rtol=1e-6)
    sp = F.softplus(x)
    np.testing.assert_allclose(sp.detach().numpy(), [0.0, np.log1p(np.exp(-50.0)), np.log(2), 50.0, 1000.0], rtol=1e-6)
    (s.sum() + sp.sum()).backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_bad_inputs_raise_clear_errors():
    x = mt.randn(3)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="min and max"):
        mt.clamp(x)
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(x, 1.0, -1.0)
    with pytest.raises(TypeError, match="Tensor"):
        mt.exp(np.ones(3))
