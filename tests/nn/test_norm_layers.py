"""BatchNorm1d/2d, LayerNorm, GroupNorm, LocalResponseNorm layers: parameters, buffers,
running statistics, train/eval behaviour, forward against the functional ops."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.nn import functional as F
from tests.helpers import DEVICES


def _input(shape, seed=0, device="cpu", shift=0.0, scale=1.0):
    data = np.random.default_rng(seed).standard_normal(shape) * scale + shift
    return mt.tensor(data, dtype=mt.float64, device=device)


def _normalize(x, mean, var, eps, axes_shape):
    return (x - mean.reshape(axes_shape)) / np.sqrt(var.reshape(axes_shape) + eps)


def test_batchnorm_parameters_buffers_and_state_dict_keys():
    bn = nn.BatchNorm2d(5)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(5))
    np.testing.assert_array_equal(bn.bias.detach().numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(5))
    assert bn.num_batches_tracked.dtype == mt.int64 and bn.num_batches_tracked.shape == ()
    assert repr(bn) == "BatchNorm2d(5, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    # a torchvision-style block has torchvision's keys
    block = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4))
    assert list(block.state_dict()) == [
        "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
    ]
    bare = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bare.parameters()) == [] and list(bare.state_dict()) == []
    no_bias = nn.BatchNorm2d(3, bias=False)
    assert list(no_bias.state_dict()) == ["weight", "running_mean", "running_var", "num_batches_tracked"]


@pytest.mark.parametrize("device", DEVICES)
def test_batchnorm2d_training_updates_running_stats(device):
    bn = nn.BatchNorm2d(3, momentum=0.2, dtype=mt.float64, device=device)
    with mt.no_grad():
        bn.weight.copy_(mt.tensor([1.0, 2.0, 0.5]))
        bn.bias.copy_(mt.tensor([0.0, -1.0, 3.0]))
    running_mean, running_var = np.zeros(3), np.ones(3)
    for step in range(1, 4):
        x = _input((4, 3, 5, 2), seed=step, device=device, shift=step, scale=2.0)
        out = bn(x)
        data = x.numpy()
        mean, var = data.mean(axis=(0, 2, 3)), data.var(axis=(0, 2, 3))
        expected = _normalize(data, mean, var, 1e-5, (1, 3, 1, 1))
        expected = expected * np.array([1.0, 2.0, 0.5]).reshape(1, 3, 1, 1) + np.array([0.0, -1.0, 3.0]).reshape(1, 3, 1, 1)
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
        count = data.size / 3
        running_mean = 0.8 * running_mean + 0.2 * mean
        running_var = 0.8 * running_var + 0.2 * var * count / (count - 1)  # unbiased
        np.testing.assert_allclose(bn.running_mean.numpy(), running_mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), running_var, rtol=1e-12)
        assert bn.num_batches_tracked.item() == step
    out.sum().backward()
    assert bn.weight.grad.shape == (3,)


def test_batchnorm_eval_uses_running_stats_and_does_not_count():
    bn = nn.BatchNorm2d(2, dtype=mt.float64)
    bn(_input((3, 2, 4, 4), seed=1, shift=2.0))
    bn.eval()
    before = (bn.running_mean.numpy().copy(), bn.running_var.numpy().copy())
    x = _input((2, 2, 3, 3), seed=2)
    expected = _normalize(x.numpy(), before[0], before[1], 1e-5, (1, 2, 1, 1))
    np.testing.assert_allclose(bn(x).detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before[0])
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(4, momentum=None, dtype=mt.float64)
    means = []
    for step in range(5):
        x = _input((6, 4), seed=step, shift=step)
        bn(x)
        means.append(x.numpy().mean(axis=0))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean(means, axis=0), rtol=1e-12)


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(3, track_running_stats=False, dtype=mt.float64).eval()
    assert bn.running_mean is None and bn.num_batches_tracked is None
    x = _input((5, 3, 4), seed=3)
    data = x.numpy()
    expected = _normalize(data, data.mean(axis=(0, 2)), data.var(axis=(0, 2)), 1e-5, (1, 3, 1))
    np.testing.assert_allclose(bn(x).detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_batchnorm_input_rank_errors():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(mt.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(mt.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)


def test_batchnorm_double_keeps_counter_int64_and_state_round_trips():
    bn = nn.BatchNorm2d(2)
    bn(mt.randn(2, 2, 3, 3))
    bn.double()
    assert bn.running_mean.dtype == mt.float64 and bn.num_batches_tracked.dtype == mt.int64
    fresh = nn.BatchNorm2d(2).double()
    fresh.load_state_dict(bn.state_dict())
    assert fresh.num_batches_tracked.item() == 1
    np.testing.assert_array_equal(fresh.running_var.numpy(), bn.running_var.numpy())


def test_layer_norm_layer():
    ln = nn.LayerNorm((3, 4), eps=1e-6, dtype=mt.float64)
    assert ln.weight.shape == (3, 4) and ln.bias.shape == (3, 4)
    with mt.no_grad():
        ln.weight.copy_(_input((3, 4), seed=5))
    x = _input((2, 5, 3, 4), seed=6)
    expected = F.layer_norm(x, (3, 4), ln.weight, ln.bias, 1e-6)
    np.testing.assert_array_equal(ln(x).detach().numpy(), expected.detach().numpy())
    data = x.numpy().reshape(2, 5, 12)
    manual = (data - data.mean(-1, keepdims=True)) / np.sqrt(data.var(-1, keepdims=True) + 1e-6)
    manual = manual.reshape(2, 5, 3, 4) * ln.weight.detach().numpy()
    np.testing.assert_allclose(ln(x).detach().numpy(), manual, rtol=1e-10, atol=1e-12)
    assert repr(nn.LayerNorm(8)) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert nn.LayerNorm(8, bias=False).bias is None
    assert list(nn.LayerNorm(8, elementwise_affine=False).parameters()) == []


def test_group_norm_layer():
    gn = nn.GroupNorm(2, 6, dtype=mt.float64)
    assert gn.weight.shape == (6,)
    x = _input((3, 6, 4, 5), seed=7)
    expected = F.group_norm(x, 2, gn.weight, gn.bias, 1e-5)
    np.testing.assert_array_equal(gn(x).detach().numpy(), expected.detach().numpy())
    data = x.numpy().reshape(3, 2, -1)
    manual = (data - data.mean(-1, keepdims=True)) / np.sqrt(data.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(gn(x).detach().numpy(), manual.reshape(x.shape), rtol=1e-10, atol=1e-12)
    assert repr(gn) == "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(4, 6)


def test_local_response_norm_layer():
    lrn = nn.LocalResponseNorm(3, alpha=1e-2, beta=0.5, k=2.0)
    x = _input((2, 5, 3, 3), seed=8)
    expected = F.local_response_norm(x, 3, 1e-2, 0.5, 2.0)
    np.testing.assert_array_equal(lrn(x).numpy(), expected.numpy())
    assert repr(lrn) == "LocalResponseNorm(3, alpha=0.01, beta=0.5, k=2.0)"
