"""group_norm: forward against plain NumPy, gradients against finite differences
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


def _group_norm_numpy(x, G, weight, bias, eps):
    N, C = x.shape[:2]
    grouped = x.astype(np.float64).reshape(N, G, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = ((grouped - mean) ** 2).mean(axis=2, keepdims=True)
    y = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    per_channel = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(per_channel)
    if bias is not None:
        y = y + bias.reshape(per_channel)
    return y


@st.composite
def group_norm_case(draw):
    N = draw(st.integers(1, 3), label="N")
    G = draw(st.integers(1, 3), label="G")
    C = G * draw(st.integers(1, 3), label="C / G")
    spatial = draw(shapes(min_dims=0, max_dims=2, max_side=4), label="spatial")
    if N * (C // G) * int(np.prod(spatial)) == 1:
        N = 2  # PyTorch refuses a single value (see test_group_norm_bad_inputs)
    affine = draw(st.sampled_from(["none", "weight", "both"]), label="affine")
    values = draw(arrays((N, C) + spatial, distinct=True), label="input")
    weight = draw(arrays((C,), low=0.5, high=1.5)) if affine != "none" else None
    bias = draw(arrays((C,))) if affine == "both" else None
    return values, G, weight, bias, draw(layouts(), label="layout")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(case=group_norm_case())
def test_group_norm_matches_numpy(device, dtype, case):
    values, G, weight, bias, layout = case
    x = make_tensor(values.astype(dtype), device, layout)
    w = None if weight is None else make_tensor(weight.astype(dtype), device)
    b = None if bias is None else make_tensor(bias.astype(dtype), device)
    out = F.group_norm(x, G, w, b, eps=1e-5)
    assert out.shape == x.shape and out.dtype == dtype
    expected = _group_norm_numpy(values.astype(dtype), G, weight, bias, 1e-5)
    assert_close(out, expected, dtype=dtype)


@pytest.mark.parametrize("device", DEVICES)
@given(case=group_norm_case())
def test_group_norm_gradients(device, case):
    values, G, weight, bias, layout = case
    inputs = [make_tensor(values, device, layout)]
    inputs += [make_tensor(v, device) for v in (weight, bias) if v is not None]

    def fn(x, *affine):
        w = affine[0] if len(affine) > 0 else None
        b = affine[1] if len(affine) > 1 else None
        return F.group_norm(x, G, w, b, eps=1e-5)

    check_backward(fn, inputs)


def test_group_norm_with_one_group_is_layer_norm_over_c_h_w():
    x = mt.randn(2, 3, 4, 5, dtype=mt.float64)
    np.testing.assert_allclose(
        F.group_norm(x, 1).numpy(), F.layer_norm(x, (3, 4, 5)).numpy(), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize(
    "op",
    [
        lambda x, w, b: F.group_norm(x, 2, w.reshape(-1)[:4], b.reshape(-1)[:4]),
    ],
    ids=["group_norm"],
)
def test_gradients_through_the_cuda_kernels(op):
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((3, 4, 5)))
    w = mt.tensor(rng.uniform(0.5, 1.5, (4, 5)))
    b = mt.tensor(rng.standard_normal((4, 5)))
    with backend.use_cpu_kernels("cuda"):
        check_backward(op, [x, w, b])


def test_group_norm_bad_inputs():
    x = mt.randn(2, 6, 3)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.group_norm(mt.zeros(2, 6, dtype=mt.int32), 2)
    with pytest.raises(ValueError, match=r"input: expected a tensor of shape \(N, C, \*\)"):
        F.group_norm(mt.randn(6), 2)
    with pytest.raises(ValueError, match="num_groups: expected a positive divisor of the number of channels C=6"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match="num_groups: expected a positive divisor"):
        F.group_norm(x, 0)
    with pytest.raises(TypeError, match="num_groups must be an int"):
        F.group_norm(x, 2.0)
    with pytest.raises(ValueError, match=r"weight: expected shape \(6,\)"):
        F.group_norm(x, 2, weight=mt.ones(3))
    with pytest.raises(ValueError, match="eps: expected a value > 0"):
        F.group_norm(x, 2, eps=-1e-5)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.group_norm(mt.randn(1, 6), 6)
