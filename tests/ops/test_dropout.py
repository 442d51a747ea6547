"""dropout and dropout2d: inverted scaling, reproducibility under manual_seed, the
rate of zeros, whole-channel masks, eval identity, gradient = mask * scale, bad input."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.nn.functional as F
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES


def positive_input(shape, device="cpu", requires_grad=False):
    """Values in [1, 2): a zero in the output can only come from the mask."""
    values = 1 + np.random.default_rng(0).random(shape)
    return mt.tensor(values, dtype=mt.float32, device=device, requires_grad=requires_grad)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_fraction_of_zeros_and_scaling(device, p):
    """Each of n = 10^6 elements is zeroed independently with probability p, so the
    fraction of zeros has standard deviation sqrt(p (1 - p) / n) <= 5e-4; a 6-sigma
    band fails by chance with probability ~2e-9. Survivors are exactly x / (1 - p)."""
    n = 10**6
    x = positive_input((1000, 1000), device)
    mt.manual_seed(0)
    y = F.dropout(x, p).numpy()
    x_values = x.numpy()
    zeros = y == 0
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(zeros.mean() - p) < 6 * sigma
    kept = ~zeros
    np.testing.assert_allclose(y[kept], x_values[kept] * np.float32(1 / (1 - p)), rtol=1e-6)


@pytest.mark.parametrize("function", [F.dropout, F.dropout2d])
def test_reproducible_under_manual_seed(function):
    x = positive_input((4, 6, 3, 3))
    mt.manual_seed(123)
    first = function(x, 0.5).numpy()
    mt.manual_seed(123)
    second = function(x, 0.5).numpy()
    mt.manual_seed(124)
    other = function(x, 0.5).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4)),
    p=st.sampled_from([0.2, 0.5, 0.8]),
    seed=st.integers(0, 1000),
)
def test_dropout2d_zeroes_whole_channels(shape, p, seed):
    x = positive_input(shape)
    mt.manual_seed(seed)
    y = F.dropout2d(x, p).numpy()
    scale = np.float32(1 / (1 - p))
    for n in range(shape[0]):
        for c in range(shape[1]):
            channel = y[n, c]
            assert np.all(channel == 0) or np.allclose(channel, x.numpy()[n, c] * scale, rtol=1e-6)


def test_dropout2d_rank_rules_follow_pytorch():
    """3-D: channel-wise over (N, C, L) with a warning; 2-D: per element, deprecated
    (warns); 1-D: an error."""
    x = positive_input((8, 16, 5))
    mt.manual_seed(0)
    with pytest.warns(UserWarning, match="3-D"):
        y = F.dropout2d(x, 0.5).numpy()
    per_channel = (y == 0).all(axis=2) | (y != 0).all(axis=2)
    assert per_channel.all()
    with pytest.warns(UserWarning, match="deprecated"):
        y = F.dropout2d(positive_input((64, 64)), 0.5).numpy()
    assert 0 < (y == 0).mean() < 1 and not ((y == 0).all(axis=0) | (y != 0).all(axis=0)).all()
    with pytest.raises(ValueError, match="at least 2 dims"), pytest.warns(UserWarning):
        F.dropout2d(positive_input((5,)), 0.5)


@pytest.mark.parametrize("function", [F.dropout, F.dropout2d])
def test_eval_mode_is_identity_and_p_one_gives_zeros(function):
    x = positive_input((2, 3, 4, 4))
    assert function(x, 0.7, training=False) is x
    assert function(x, 0.0) is x
    assert np.all(function(x, 1.0).numpy() == 0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("function", [F.dropout, F.dropout2d])
def test_gradient_is_mask_times_scale(device, function):
    x = positive_input((3, 4, 2, 5), device, requires_grad=True)
    mt.manual_seed(7)
    y = function(x, 0.4)
    upstream = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    (y * mt.tensor(upstream, device=device)).sum().backward()
    noise = y.detach().numpy() / x.detach().numpy()  # the mask times 1 / (1 - p)
    np.testing.assert_allclose(x.grad.numpy(), upstream * noise, rtol=1e-6)
    assert np.all((noise == 0) | np.isclose(noise, 1 / 0.6, rtol=1e-6))

    def fixed_mask(a):  # the same draw at every evaluation of the gradient check
        mt.manual_seed(7)
        return function(a, 0.4)

    check_backward(fixed_mask, [x])


def test_inplace_outside_the_graph_overwrites_the_input():
    x = positive_input((4, 5))
    original = x.numpy().copy()
    mt.manual_seed(3)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x
    mt.manual_seed(3)
    np.testing.assert_array_equal(x.numpy(), F.dropout(mt.tensor(original), 0.5).numpy())
    # Inside a graph the result is computed out of place and the gradient still flows.
    leaf = positive_input((4, 5), requires_grad=True)
    out = F.dropout(leaf, 0.5, inplace=True)
    assert out is not leaf
    out.sum().backward()
    assert leaf.grad is not None


def test_bad_input():
    x = positive_input((2, 3))
    for function in (F.dropout, F.dropout2d):
        for p in (-0.1, 1.5):
            with pytest.raises(ValueError, match="between 0 and 1"):
                function(x, p)
    with pytest.raises(TypeError, match="floating point"):
        F.dropout(mt.tensor([1, 2, 3]), 0.5)
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.dropout(np.ones(3), 0.5)
