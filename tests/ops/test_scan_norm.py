"""cumsum, norm, F.normalize and the step functions floor/ceil/round/sign: forward
against NumPy on drawn shapes, gradients in float64 (0 for the steps, as PyTorch)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor, shapes

F = mt.nn.functional


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_cumsum(device, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    values = data.draw(arrays(shape))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    np.testing.assert_allclose(x.cumsum(dim).numpy(), np.cumsum(values, dim), rtol=1e-12)
    check_backward(lambda t: mt.cumsum(t, dim), [x])
    assert mt.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert mt.tensor([1, 2], dtype=mt.int32).cumsum(0).dtype == mt.int64
    assert x.cumsum(dim, dtype=mt.float32).dtype == mt.float32


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, math.inf, -math.inf, 0, "fro"])
@given(data=st.data())
def test_vector_norms(p, device, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    # distinct magnitudes away from 0: no ties for the inf-norms, no kink of |x|
    magnitudes = data.draw(arrays(shape, low=0.1, high=2.0, distinct=True), label="magnitudes")
    signs = data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=magnitudes.size,
                               max_size=magnitudes.size), label="signs")
    values = magnitudes * np.reshape(signs, shape)
    use_dim = data.draw(st.booleans(), label="use dim")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim") if use_dim else None
    keepdim = data.draw(st.booleans(), label="keepdim")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    order = 2 if p == "fro" else p
    flat = values if dim is not None else values.reshape(-1)
    expected = np.linalg.norm(flat, ord=order, axis=dim if dim is not None else 0, keepdims=keepdim and dim is not None)
    if keepdim and dim is None:
        expected = np.reshape(expected, (1,) * values.ndim)
    np.testing.assert_allclose(x.norm(p, dim, keepdim).numpy(), expected, rtol=1e-10)
    check_backward(lambda t: mt.norm(t, p, dim, keepdim), [x])


def test_norm_gradient_at_zero_is_zero():
    for p in (2, 1, 3, 0.5):
        x = mt.zeros(3, dtype=mt.float64, requires_grad=True)
        x.norm(p).backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0], p
    with pytest.raises(NotImplementedError, match="nuc"):
        mt.randn(2, 2).norm("nuc")
    with pytest.raises(RuntimeError, match="floating point"):
        mt.tensor([1, 2]).norm()


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_normalize(device, data):
    shape = data.draw(shapes(min_dims=2, max_dims=3), label="shape")
    values = data.draw(arrays(shape, low=0.1, high=2.0), label="values")
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    p = data.draw(st.sampled_from([1.0, 2.0, 3.0]), label="p")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    norms = np.linalg.norm(values, ord=p, axis=dim, keepdims=True) if values.ndim > 1 else None
    np.testing.assert_allclose(F.normalize(x, p, dim).numpy(), values / np.maximum(norms, 1e-12), rtol=1e-10)
    check_backward(lambda t: F.normalize(t, p, dim), [x])
    zeros = F.normalize(mt.zeros(2, 3, device=device), dim=1)
    assert zeros.numpy().tolist() == [[0.0] * 3] * 2  # eps keeps it finite


@pytest.mark.parametrize("device", DEVICES)
def test_step_functions(device):
    values = np.array([-2.5, -1.5, -0.4, 0.0, 0.5, 1.5, 2.5, 2.7])
    x = mt.tensor(values, device=device, requires_grad=True)
    for op, reference in ((mt.floor, np.floor), (mt.ceil, np.ceil), (mt.round, np.round), (mt.sign, np.sign)):
        np.testing.assert_array_equal(op(x).detach().numpy(), reference(values))
        x.grad = None
        op(x).sum().backward()
        assert x.grad.tolist() == [0.0] * 8  # piecewise constant: zero gradient
    np.testing.assert_array_equal(x.round(decimals=1).detach().numpy(), np.round(values, 1))
    ints = mt.tensor([3, -2])
    assert ints.floor().tolist() == [3, -2] and ints.sign().tolist() == [1, -1]
