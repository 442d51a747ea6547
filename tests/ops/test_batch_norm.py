"""batch_norm: forward in training and eval mode against plain NumPy, the running
statistics (momentum, unbiased variance, in place, untouched in eval), gradients of
input, weight and bias in both modes against finite differences, through the Numba
and the emulated CUDA kernels, and the bad-input errors."""
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
EPS = 1e-5


def _channel_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(values, x):
    return np.asarray(values).reshape((1, -1) + (1,) * (x.ndim - 2))


def _batch_norm_numpy(x, mean, var, weight, bias, eps):
    """(x - mean) / sqrt(var + eps) * weight + bias with per-channel statistics."""
    x = x.astype(np.float64)
    y = (x - _per_channel(mean, x)) / np.sqrt(_per_channel(var, x) + eps)
    if weight is not None:
        y = y * _per_channel(weight, x)
    if bias is not None:
        y = y + _per_channel(bias, x)
    return y


@st.composite
def batch_norm_case(draw, training):
    N = draw(st.integers(1, 3), label="N")
    C = draw(st.integers(1, 4), label="C")
    spatial = draw(shapes(min_dims=0, max_dims=2, max_side=4), label="spatial")  # 2-D, 3-D, 4-D
    if training and N * int(np.prod(spatial)) == 1:
        N = 2  # PyTorch refuses one value per channel in training (see the bad inputs)
    affine = draw(st.sampled_from(["none", "weight", "both"]), label="affine")
    # Distinct values: every channel of two or more values has a variance well above eps.
    values = draw(arrays((N, C) + spatial, distinct=True), label="input")
    weight = draw(arrays((C,), low=0.5, high=1.5)) if affine != "none" else None
    bias = draw(arrays((C,))) if affine == "both" else None
    running_mean = draw(arrays((C,), low=-1.0, high=1.0), label="running_mean")
    running_var = draw(arrays((C,), low=0.5, high=2.0), label="running_var")
    return values, weight, bias, running_mean, running_var, draw(layouts(), label="layout")


def _tensors(case, dtype, device):
    values, weight, bias, running_mean, running_var, layout = case
    x = make_tensor(values.astype(dtype), device, layout)
    optional = [None if v is None else make_tensor(v.astype(dtype), device) for v in (weight, bias)]
    stats = [make_tensor(v.astype(dtype), device) for v in (running_mean, running_var)]
    return x, optional, stats


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(case=batch_norm_case(training=True))
def test_training_forward_and_running_statistics(device, dtype, case):
    values, weight, bias, running_mean, running_var, _ = case
    x, (w, b), (rm, rv) = _tensors(case, dtype, device)
    out = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3, eps=EPS)
    assert out.shape == x.shape and out.dtype == dtype

    rounded = values.astype(dtype).astype(np.float64)
    axes = _channel_axes(rounded)
    mean = rounded.mean(axis=axes)
    var = rounded.var(axis=axes)  # biased: the batch is normalized with it
    assert_close(out, _batch_norm_numpy(rounded, mean, var, weight, bias, EPS), dtype=dtype)

    count = rounded.size // rounded.shape[1]
    unbiased = var * count / (count - 1)
    stats_in = [v.astype(dtype).astype(np.float64) for v in (running_mean, running_var)]
    assert_close(rm, 0.7 * stats_in[0] + 0.3 * mean, dtype=dtype)
    assert_close(rv, 0.7 * stats_in[1] + 0.3 * unbiased, dtype=dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(case=batch_norm_case(training=False))
def test_eval_forward_uses_and_keeps_the_running_statistics(device, dtype, case):
    values, weight, bias, running_mean, running_var, _ = case
    x, (w, b), (rm, rv) = _tensors(case, dtype, device)
    before = (rm.numpy().copy(), rv.numpy().copy())
    out = F.batch_norm(x, rm, rv, w, b, training=False, momentum=0.3, eps=EPS)
    expected = _batch_norm_numpy(values.astype(dtype), before[0], before[1], weight, bias, EPS)
    assert_close(out, expected, dtype=dtype)
    np.testing.assert_array_equal(rm.numpy(), before[0])
    np.testing.assert_array_equal(rv.numpy(), before[1])


def test_running_statistics_over_several_steps_by_hand():
    rng = np.random.default_rng(4)
    running_mean, running_var = np.zeros(3), np.ones(3)
    rm, rv = mt.zeros(3, dtype=mt.float64), mt.ones(3, dtype=mt.float64)
    for step in range(4):
        batch = rng.standard_normal((5, 3, 2)) * (step + 1) + step
        F.batch_norm(mt.tensor(batch), rm, rv, training=True, momentum=0.25)
        mean = batch.mean(axis=(0, 2))
        unbiased = batch.var(axis=(0, 2), ddof=1)  # 10 values per channel, divided by 9
        running_mean = 0.75 * running_mean + 0.25 * mean
        running_var = 0.75 * running_var + 0.25 * unbiased
        np.testing.assert_allclose(rm.numpy(), running_mean, rtol=1e-12)
        np.testing.assert_allclose(rv.numpy(), running_var, rtol=1e-12)
    # Eval normalizes with what the steps accumulated.
    x = rng.standard_normal((2, 3, 2))
    out = F.batch_norm(mt.tensor(x), rm, rv, training=False)
    np.testing.assert_allclose(out.numpy(), _batch_norm_numpy(x, running_mean, running_var, None, None, EPS), rtol=1e-12)


def test_running_statistics_update_under_no_grad_and_training_without_them():
    x = mt.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=mt.float64)
    rm, rv = mt.zeros(2, dtype=mt.float64), mt.ones(2, dtype=mt.float64)
    with mt.no_grad():
        F.batch_norm(x, rm, rv, training=True, momentum=1.0)
    np.testing.assert_allclose(rm.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(rv.numpy(), [2.0, 8.0])  # unbiased: (1 + 1) / 1, (4 + 4) / 1
    out = F.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(out.numpy(), [[-1, -1], [1, 1]], rtol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
@given(data=st.data())
def test_gradients(device, training, data):
    case = data.draw(batch_norm_case(training))
    values, weight, bias, running_mean, running_var, layout = case
    inputs = [make_tensor(values, device, layout)]
    inputs += [make_tensor(v, device) for v in (weight, bias) if v is not None]
    rm, rv = make_tensor(running_mean, device), make_tensor(running_var, device)
    if training:  # the running statistics change at every call; the output does not
        rm, rv = data.draw(st.sampled_from([(rm, rv), (None, None)]), label="running stats")

    def fn(x, *affine):
        w = affine[0] if len(affine) > 0 else None
        b = affine[1] if len(affine) > 1 else None
        return F.batch_norm(x, rm, rv, w, b, training=training, eps=EPS)

    check_backward(fn, inputs)


@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 2, 3, 4)])
def test_gradients_through_the_cuda_kernels(training, shape):
    rng = np.random.default_rng(5)
    C = shape[1]
    x = mt.tensor(rng.standard_normal(shape))
    w = mt.tensor(rng.uniform(0.5, 1.5, C))
    b = mt.tensor(rng.standard_normal(C))
    rm, rv = mt.tensor(rng.standard_normal(C)), mt.tensor(rng.uniform(0.5, 2.0, C))
    with backend.use_cpu_kernels("cuda"):
        check_backward(lambda *a: F.batch_norm(a[0], rm, rv, a[1], a[2], training=training), [x, w, b])


def test_statistics_are_two_pass():
    # One channel at 1e8 + (0, 1, 2, 3): E[x^2] - E[x]^2 loses the variance in float64.
    offsets = np.array([0.0, 1.0, 2.0, 3.0])
    x = mt.tensor((1e8 + offsets).reshape(4, 1), dtype=mt.float64)
    out = F.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(out.numpy().ravel(), (offsets - 1.5) / np.sqrt(1.25 + EPS), rtol=1e-7)


def test_only_the_requested_gradients_are_computed():
    x = mt.randn(4, 3, dtype=mt.float64)
    w = mt.ones(3, dtype=mt.float64)
    b = mt.zeros(3, dtype=mt.float64, requires_grad=True)
    F.batch_norm(x, None, None, w, b, training=True).sum().backward()
    assert x.grad is None and w.grad is None
    np.testing.assert_allclose(b.grad.numpy(), [4.0, 4.0, 4.0])


def test_bad_inputs():
    x = mt.randn(4, 3, 5)
    rm, rv = mt.zeros(3), mt.ones(3)
    with pytest.raises(ValueError, match=r"input: expected a tensor of shape \(N, C\) or \(N, C, \*\)"):
        F.batch_norm(mt.randn(3), rm, rv)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.batch_norm(mt.zeros(4, 3, dtype=mt.int64), rm, rv)
    with pytest.raises(ValueError, match=r"running_mean: expected shape \(3,\)"):
        F.batch_norm(x, mt.zeros(4), rv)
    with pytest.raises(ValueError, match=r"running_var: expected shape \(3,\)"):
        F.batch_norm(x, rm, mt.ones(2))
    with pytest.raises(TypeError, match="running_mean: expected dtype float32"):
        F.batch_norm(x, mt.zeros(3, dtype=mt.float64), rv)
    with pytest.raises(ValueError, match=r"weight: expected shape \(3,\)"):
        F.batch_norm(x, rm, rv, weight=mt.ones(4))
    with pytest.raises(ValueError, match=r"bias: expected shape \(3,\)"):
        F.batch_norm(x, rm, rv, bias=mt.ones(1))
    with pytest.raises(ValueError, match="expected Tensors in evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="expected both Tensors or both None"):
        F.batch_norm(x, rm, None, training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(mt.randn(1, 3), rm, rv, training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(mt.randn(1, 3, 1, 1), rm, rv, training=True)
    with pytest.raises(ValueError, match="eps: expected a value > 0, got 0"):
        F.batch_norm(x, rm, rv, eps=0)
    with pytest.raises(TypeError, match="momentum must be a float, got None"):
        F.batch_norm(x, rm, rv, training=True, momentum=None)
    F.batch_norm(mt.randn(1, 3), rm, rv, training=False)  # one sample is fine in eval
