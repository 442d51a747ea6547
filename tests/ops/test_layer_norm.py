"""layer_norm: forward against plain NumPy, gradients against finite differences
(input, weight, bias), through the Numba and the emulated CUDA kernels, and the
bad-input errors."""
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


def _layer_norm_numpy(x, k, weight, bias, eps):
    """Normalize over the last k dims (biased variance), then the elementwise affine."""
    x = x.astype(np.float64)
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


@st.composite
def layer_norm_case(draw):
    batch = draw(shapes(min_dims=0, max_dims=2), label="batch dims")
    normalized = draw(shapes(min_dims=1, max_dims=2, max_side=5), label="normalized_shape")
    affine = draw(st.sampled_from(["none", "weight", "both"]), label="affine")
    # Distinct values: every row of two or more values has a variance well above eps,
    # so float32 rounding of the mean is not amplified by rstd ~ 1/sqrt(eps).
    values = draw(arrays(batch + normalized, distinct=True), label="input")
    weight = draw(arrays(normalized, low=0.5, high=1.5)) if affine != "none" else None
    bias = draw(arrays(normalized)) if affine == "both" else None
    return values, normalized, weight, bias, draw(layouts(), label="layout")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(case=layer_norm_case())
def test_layer_norm_matches_numpy(device, dtype, case):
    values, normalized, weight, bias, layout = case
    x = make_tensor(values.astype(dtype), device, layout)
    w = None if weight is None else make_tensor(weight.astype(dtype), device)
    b = None if bias is None else make_tensor(bias.astype(dtype), device)
    out = F.layer_norm(x, normalized, w, b, eps=1e-5)
    assert out.shape == x.shape and out.dtype == dtype
    rounded = values.astype(dtype)  # the values the op saw
    expected = _layer_norm_numpy(rounded, len(normalized), weight, bias, 1e-5)
    assert_close(out, expected, dtype=dtype)


@pytest.mark.parametrize("device", DEVICES)
@given(case=layer_norm_case())
def test_layer_norm_gradients(device, case):
    values, normalized, weight, bias, layout = case
    inputs = [make_tensor(values, device, layout)]
    inputs += [make_tensor(v, device) for v in (weight, bias) if v is not None]

    def fn(x, *affine):
        w = affine[0] if len(affine) > 0 else None
        b = affine[1] if len(affine) > 1 else None
        return F.layer_norm(x, normalized, w, b, eps=1e-5)

    check_backward(fn, inputs)


def test_only_the_requested_gradients_are_computed():
    x = mt.randn(3, 4, dtype=mt.float64)
    w = mt.ones(4, dtype=mt.float64, requires_grad=True)
    b = mt.zeros(4, dtype=mt.float64)
    F.layer_norm(x, (4,), w, b).sum().backward()
    assert x.grad is None and b.grad is None
    # d sum(y) / d weight[j] = sum over rows of xhat[:, j]
    xhat = _layer_norm_numpy(x.numpy(), 1, None, None, 1e-5)
    np.testing.assert_allclose(w.grad.numpy(), xhat.sum(axis=0), rtol=1e-12)


def test_layer_norm_statistics_are_two_pass():
    # Values 1e8 + small offsets: E[x^2] - E[x]^2 would lose every digit of the
    # variance in float64; the mean-then-deviations variance keeps them.
    offsets = np.array([[0.0, 1.0, 2.0, 3.0]])
    x = mt.tensor(1e8 + offsets, dtype=mt.float64)
    expected = (offsets - 1.5) / np.sqrt(1.25 + 1e-5)
    np.testing.assert_allclose(F.layer_norm(x, (4,)).numpy(), expected, rtol=1e-7)


@pytest.mark.parametrize(
    "op",
    [
        lambda x, w, b: F.layer_norm(x, x.shape[1:], w, b),
    ],
    ids=["layer_norm"],
)
def test_gradients_through_the_cuda_kernels(op):
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((3, 4, 5)))
    w = mt.tensor(rng.uniform(0.5, 1.5, (4, 5)))
    b = mt.tensor(rng.standard_normal((4, 5)))
    with backend.use_cpu_kernels("cuda"):
        check_backward(op, [x, w, b])


def test_layer_norm_bad_inputs():
    x = mt.randn(2, 3, 4)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.layer_norm(mt.zeros(2, 3, dtype=mt.int64), (3,))
    with pytest.raises(TypeError, match="input must be a Tensor"):
        F.layer_norm(np.zeros((2, 3)), (3,))
    with pytest.raises(ValueError, match=r"normalized_shape: expected the trailing dims"):
        F.layer_norm(x, (3,))
    with pytest.raises(ValueError, match=r"normalized_shape: expected the trailing dims"):
        F.layer_norm(x, (5, 2, 3, 4))
    with pytest.raises(ValueError, match=r"weight: expected shape \(3, 4\)"):
        F.layer_norm(x, (3, 4), weight=mt.ones(4))
    with pytest.raises(ValueError, match=r"bias: expected shape \(4,\)"):
        F.layer_norm(x, (4,), bias=mt.ones(3))
    with pytest.raises(TypeError, match="weight: expected dtype float32"):
        F.layer_norm(x, (4,), weight=mt.ones(4, dtype=mt.float64))
    with pytest.raises(ValueError, match="eps: expected a value > 0, got 0"):
        F.layer_norm(x, (4,), eps=0.0)
    with pytest.raises(TypeError, match="normalized_shape must be"):
        F.layer_norm(x, "4")
