"""F.linear: values against NumPy, gradients against finite differences, bad input."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from minitorch_cv.nn import functional as F
from tests.helpers import DEVICES, assert_close


@st.composite
def linear_case(draw):
    lead = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    in_features = draw(st.integers(1, 6))
    out_features = draw(st.integers(1, 5))
    bias = draw(st.booleans())
    transposed = draw(st.booleans())  # a non-contiguous input
    seed = draw(st.integers(0, 2**16))
    return tuple(lead), in_features, out_features, bias, transposed, seed


def _make(lead, in_features, out_features, bias, transposed, seed, dtype, device="cpu"):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(lead + (in_features,)).astype(dtype)
    if transposed and len(lead) >= 1:
        x = np.ascontiguousarray(np.swapaxes(x, 0, -1)).swapaxes(0, -1)
    w = rng.standard_normal((out_features, in_features)).astype(dtype)
    b = rng.standard_normal(out_features).astype(dtype) if bias else None
    tensors = [mt.tensor(x, device=device), mt.tensor(w, device=device)]
    if transposed and len(lead) >= 1:
        tensors[0] = mt.Tensor(mt.devices.to_device(x, device))  # keep the strides
    tensors.append(None if b is None else mt.tensor(b, device=device))
    return x, w, b, tensors


@given(linear_case())
def test_linear_matches_numpy(case):
    for dtype in (np.float32, np.float64):
        x, w, b, (tx, tw, tb) = _make(*case, dtype)
        expected = x @ w.T + (0 if b is None else b)
        out = F.linear(tx, tw, tb)
        assert out.dtype == dtype and out.shape == expected.shape
        assert_close(out, expected)


@given(linear_case())
def test_linear_gradients(case):
    _, _, b, (tx, tw, tb) = _make(*case, np.float64)
    if tb is None:
        check_backward(lambda x, w: F.linear(x, w), [tx, tw])
    else:
        check_backward(F.linear, [tx, tw, tb])


@pytest.mark.parametrize("device", DEVICES)
def test_linear_on_device(device):
    _, _, _, (tx, tw, tb) = _make((3,), 4, 2, True, False, 0, np.float64, device)
    for t in (tx, tw, tb):
        t.requires_grad_()
    out = F.linear(tx, tw, tb)
    assert out.device == device
    out.sum().backward()
    np.testing.assert_allclose(tb.grad.numpy(), np.full(2, 3.0))
    np.testing.assert_allclose(tw.grad.detach().numpy(), np.tile(tx.detach().numpy().sum(0), (2, 1)))


def test_linear_bad_input():
    x, w = mt.randn(2, 3), mt.randn(4, 3)
    with pytest.raises(ValueError, match="in_features"):
        F.linear(mt.randn(2, 5), w)
    with pytest.raises(ValueError, match="bias must have shape"):
        F.linear(x, w, mt.randn(3))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(x, mt.randn(3))
    with pytest.raises(TypeError, match="dtype"):
        F.linear(x, w.double())
    with pytest.raises(TypeError, match="input must be a Tensor"):
        F.linear(np.zeros((2, 3)), w)
    with pytest.raises(TypeError, match="floating-point"):
        F.linear(mt.zeros(2, 3, dtype=mt.int64), mt.zeros(4, 3, dtype=mt.int64))
