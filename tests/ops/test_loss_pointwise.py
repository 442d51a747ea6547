"""binary_cross_entropy, smooth_l1_loss, kl_div: values against their formulas for every
reduction on drawn shapes, gradients of input and target in float64, PyTorch's edge
cases (BCE at 0 and 1, beta = 0, 0 log 0) and errors."""
import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor, shapes

F = mt.nn.functional


def _reduce(loss, reduction, batch=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "batchmean":
        return loss.sum() / batch
    return loss.mean()


def _pair(data, device, low=-2.0, high=2.0, target_low=-2.0, target_high=2.0, kinks=()):
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(arrays(shape, low=low, high=high), label="input")
    y = data.draw(arrays(shape, low=target_low, high=target_high, kinks=kinks), label="target")
    layout = data.draw(layouts(), label="layout")
    return x, y, make_tensor(x, device, layout), make_tensor(y, device, layout)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@given(data=st.data())
def test_binary_cross_entropy(device, reduction, data):
    x, y, xt, yt = _pair(data, device, 0.05, 0.95, 0.0, 1.0)
    weight_values = data.draw(arrays(x.shape[-1:], low=0.5, high=2.0), label="weight")
    weight = mt.tensor(weight_values, device=device)
    expected = -weight_values * (y * np.log(x) + (1 - y) * np.log(1 - x))
    out = F.binary_cross_entropy(xt, yt, weight, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), _reduce(expected, reduction), rtol=1e-10)
    check_backward(lambda a, b: F.binary_cross_entropy(a, b, weight, reduction=reduction), [xt, yt])


def test_binary_cross_entropy_at_zero_and_one_is_finite():
    x = mt.tensor([0.0, 1.0, 0.5], dtype=mt.float64, requires_grad=True)
    y = mt.tensor([1.0, 0.0, 1.0], dtype=mt.float64)
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, np.log(2)])  # logs clamped at -100
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy()[:2], [-1e12, 1e12])  # (x - y) / max(x(1-x), 1e-12)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(mt.tensor([1.5]), mt.tensor([1.0]))
    with pytest.raises(ValueError, match="same size"):
        F.binary_cross_entropy(mt.tensor([0.5]), mt.tensor([1.0, 0.0]))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@given(data=st.data())
def test_smooth_l1_loss(device, reduction, data):
    beta = data.draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]), label="beta")
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(arrays(shape), label="input")
    y = x + data.draw(arrays(shape, kinks=(0.0, beta, -beta), margin=0.05), label="difference")
    layout = data.draw(layouts(), label="layout")
    xt, yt = make_tensor(x, device, layout), make_tensor(y, device, layout)
    d = np.abs(x - y)
    expected = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    out = F.smooth_l1_loss(xt, yt, reduction=reduction, beta=beta)
    np.testing.assert_allclose(out.numpy(), _reduce(expected, reduction), rtol=1e-10)
    check_backward(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta), [xt, yt])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@given(data=st.data())
def test_kl_div(device, reduction, log_target, data):
    if log_target:
        x, y, xt, yt = _pair(data, device, -3.0, 0.0, -3.0, 0.0)
        expected = np.exp(y) * (y - x)
    else:
        x, y, xt, yt = _pair(data, device, -3.0, 0.0, 0.05, 1.0)
        expected = y * (np.log(y) - x)
    with pytest.warns(UserWarning, match="batchmean") if reduction == "mean" else contextlib.nullcontext():
        out = F.kl_div(xt, yt, reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(out.numpy(), _reduce(expected, reduction, x.shape[0]), rtol=1e-10)
    check_backward(lambda a, b: F.kl_div(a, b, reduction="sum" if reduction == "mean" else reduction,
                                         log_target=log_target), [xt, yt])


def test_kl_div_zero_target_contributes_nothing_and_legacy_arguments():
    x = mt.tensor([-1.0, -2.0], dtype=mt.float64, requires_grad=True)
    y = mt.tensor([0.0, 0.5], dtype=mt.float64)
    loss = F.kl_div(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.5 * (np.log(0.5) + 2.0)])
    with pytest.warns(UserWarning, match="size_average and reduce"):
        summed = F.smooth_l1_loss(x, y, size_average=False)
    np.testing.assert_allclose(summed.item(), F.smooth_l1_loss(x, y, reduction="sum").item())
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert F.binary_cross_entropy(mt.tensor([0.5, 0.5]), mt.tensor([1.0, 0.0]), reduce=False).shape == (2,)
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(x, y, reduction="batch")
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, y, beta=-1.0)
    with pytest.warns(UserWarning, match="different to the input size"):
        F.smooth_l1_loss(mt.zeros(2, 3), mt.zeros(3))
