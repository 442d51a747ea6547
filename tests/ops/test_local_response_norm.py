"""local_response_norm (AlexNet's LRN, PyTorch's definition): forward against a plain
NumPy loop over channel windows, gradients against finite differences, bad inputs."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES, assert_close
from tests.strategies import arrays, layouts, make_tensor, shapes

F = mt.nn.functional


def _lrn_numpy(x, size, alpha, beta, k):
    """b_c = a_c / (k + alpha / size * sum_{c' in window} a_c'^2)^beta, the window being
    PyTorch's: size // 2 channels before c, (size - 1) // 2 after, clipped."""
    x = x.astype(np.float64)
    C = x.shape[1]
    y = np.empty_like(x)
    for c in range(C):
        window = x[:, max(c - size // 2, 0) : min(c + (size - 1) // 2, C - 1) + 1]
        y[:, c] = x[:, c] / (k + alpha / size * (window**2).sum(axis=1)) ** beta
    return y


@st.composite
def lrn_case(draw):
    N = draw(st.integers(1, 2), label="N")
    C = draw(st.integers(1, 6), label="C")
    spatial = draw(shapes(min_dims=1, max_dims=2, max_side=4), label="spatial")
    size = draw(st.integers(1, 7), label="size")  # may exceed C: the window is clipped
    alpha = draw(st.sampled_from([1e-4, 0.1, 1.0]), label="alpha")
    beta = draw(st.sampled_from([0.75, 0.5, 1.0]), label="beta")
    k = draw(st.sampled_from([1.0, 2.0, 0.5]), label="k")
    values = draw(arrays((N, C) + spatial), label="input")
    return values, size, alpha, beta, k, draw(layouts(), label="layout")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(case=lrn_case())
def test_lrn_matches_numpy(device, dtype, case):
    values, size, alpha, beta, k, layout = case
    x = make_tensor(values.astype(dtype), device, layout)
    out = F.local_response_norm(x, size, alpha, beta, k)
    assert out.shape == x.shape and out.dtype == dtype
    assert_close(out, _lrn_numpy(values.astype(dtype), size, alpha, beta, k), dtype=dtype)


@pytest.mark.parametrize("device", DEVICES)
@given(case=lrn_case())
def test_lrn_gradients(device, case):
    values, size, alpha, beta, k, layout = case
    x = make_tensor(values, device, layout)
    check_backward(lambda t: F.local_response_norm(t, size, alpha, beta, k), [x])


def test_lrn_by_hand():
    # C = 3, size 2: the window of channel c is [c - 1, c]; alpha / size = 0.5.
    x = mt.tensor([[[1.0], [2.0], [3.0]]], dtype=mt.float64)
    out = F.local_response_norm(x, 2, alpha=1.0, beta=1.0, k=1.0)
    expected = [1 / (1 + 0.5 * 1), 2 / (1 + 0.5 * (1 + 4)), 3 / (1 + 0.5 * (4 + 9))]
    np.testing.assert_allclose(out.numpy().ravel(), expected, rtol=1e-12)


@pytest.mark.parametrize("size", [2, 3])
def test_lrn_gradients_through_the_cuda_kernels(size):
    x = mt.tensor(np.random.default_rng(2).standard_normal((2, 5, 3)))
    with backend.use_cpu_kernels("cuda"):
        check_backward(lambda t: F.local_response_norm(t, size, alpha=0.5, beta=0.75, k=1.0), [x])


def test_lrn_bad_inputs():
    with pytest.raises(ValueError, match=r"input: expected a tensor of shape \(N, C, \*\) with at least 3 dims"):
        F.local_response_norm(mt.randn(2, 6), 3)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.local_response_norm(mt.zeros(2, 6, 3, dtype=mt.int64), 3)
    with pytest.raises(ValueError, match="size: expected a number of channels > 0, got 0"):
        F.local_response_norm(mt.randn(2, 6, 3), 0)
    with pytest.raises(TypeError, match="size must be an int"):
        F.local_response_norm(mt.randn(2, 6, 3), 2.5)
    with pytest.raises(TypeError, match="alpha must be a number"):
        F.local_response_norm(mt.randn(2, 6, 3), 3, alpha="big")
