"""nn.init: gains, fans, bounds and statistics of every initializer."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.nn import init
from tests.helpers import DEVICES


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "big")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(mt.empty(7, 5)) == (5, 7)
    # conv weight (K, C/G, KH, KW): receptive field KH*KW
    assert init._calculate_fan_in_and_fan_out(mt.empty(8, 3, 5, 2)) == (30, 80)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mt.empty(4))
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(mt.empty(3, 3), mode="fan_middle")


def _values(tensor):
    return tensor.numpy().astype(np.float64).ravel()


@pytest.mark.parametrize("device", DEVICES)
def test_uniform_and_normal(device):
    mt.manual_seed(0)
    t = mt.empty(200, 500, device=device)
    assert init.uniform_(t, -2.0, 3.0) is t
    v = _values(t)
    assert v.min() >= -2.0 and v.max() < 3.0
    assert v.mean() == pytest.approx(0.5, abs=0.02)
    assert v.std() == pytest.approx(5 / math.sqrt(12), rel=0.01)
    init.normal_(t, mean=1.5, std=0.5)
    v = _values(t)
    assert v.mean() == pytest.approx(1.5, abs=0.005)
    assert v.std() == pytest.approx(0.5, rel=0.01)


def test_constants_and_eye():
    t = mt.empty(3, 4, dtype=mt.float64)
    np.testing.assert_array_equal(init.constant_(t, 2.5).numpy(), np.full((3, 4), 2.5))
    np.testing.assert_array_equal(init.zeros_(t).numpy(), np.zeros((3, 4)))
    np.testing.assert_array_equal(init.ones_(t).numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(mt.empty(2, 2, 2))


def test_initializers_work_in_place_on_parameters_requiring_grad():
    p = mt.nn.Parameter(mt.zeros(3, 3))
    array = p.array
    init.kaiming_normal_(p)
    assert p.array is array and p.grad_fn is None and p.requires_grad


def test_seed_makes_initialization_reproducible():
    mt.manual_seed(123)
    a = init.xavier_normal_(mt.empty(5, 6)).numpy()
    mt.manual_seed(123)
    b = init.xavier_normal_(mt.empty(5, 6)).numpy()
    np.testing.assert_array_equal(a, b)
    c = init.xavier_normal_(mt.empty(5, 6)).numpy()
    assert not np.array_equal(a, c)


def test_explicit_generator_is_used():
    a = init.normal_(mt.empty(4, 4), generator=np.random.default_rng(5)).numpy()
    b = init.normal_(mt.empty(4, 4), generator=np.random.default_rng(5)).numpy()
    np.testing.assert_array_equal(a, b)


def test_xavier_bounds_and_std():
    mt.manual_seed(1)
    t = mt.empty(300, 200, dtype=mt.float64)  # fan_in 200, fan_out 300
    gain = 2.0
    std = gain * math.sqrt(2 / (200 + 300))
    v = _values(init.xavier_uniform_(t, gain=gain))
    bound = math.sqrt(3) * std
    assert np.abs(v).max() <= bound and np.abs(v).max() > 0.999 * bound
    assert v.std() == pytest.approx(std, rel=0.01)
    v = _values(init.xavier_normal_(t, gain=gain))
    assert v.std() == pytest.approx(std, rel=0.01)
    assert v.mean() == pytest.approx(0, abs=3 * std / math.sqrt(v.size) * 2)


def test_kaiming_uniform_with_sqrt5_bound_is_one_over_sqrt_fan_in():
    # PyTorch's default for Linear/Conv weights.
    mt.manual_seed(2)
    t = mt.empty(64, 16, 3, 5, dtype=mt.float64)  # fan_in = 16 * 15 = 240
    v = _values(init.kaiming_uniform_(t, a=math.sqrt(5)))
    bound = 1 / math.sqrt(240)
    assert np.abs(v).max() <= bound and np.abs(v).max() > 0.995 * bound
    assert v.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_kaiming_normal_fan_out_relu():
    mt.manual_seed(3)
    t = mt.empty(128, 64, 3, 3, dtype=mt.float64)  # fan_out = 128 * 9
    v = _values(init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"))
    assert v.std() == pytest.approx(math.sqrt(2 / (128 * 9)), rel=0.01)
    v = _values(init.kaiming_uniform_(t, mode="fan_in", nonlinearity="relu"))
    assert np.abs(v).max() <= math.sqrt(6 / (64 * 9))


def _truncated_normal_moments(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / z
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - shift**2
    return mean + std * shift, std * math.sqrt(var), cdf, alpha, beta, z


@pytest.mark.parametrize(
    "mean, std, a, b",
    [
        (0.0, 1.0, -2.0, 2.0),  # PyTorch's defaults: normal proposals
        (0.5, 2.0, -1.0, 4.0),  # asymmetric
        (0.0, 1.0, 2.0, 4.0),  # in the tail: uniform proposals
        (0.0, 0.02, -2.0, 2.0),  # ViT init: bounds never reached
    ],
)
def test_trunc_normal_is_exactly_truncated(mean, std, a, b):
    mt.manual_seed(4)
    t = mt.empty(400, 500, dtype=mt.float64)
    v = _values(init.trunc_normal_(t, mean=mean, std=std, a=a, b=b))
    assert v.min() >= a and v.max() <= b
    expected_mean, expected_std, cdf, alpha, beta, z = _truncated_normal_moments(mean, std, a, b)
    assert v.mean() == pytest.approx(expected_mean, abs=5 * expected_std / math.sqrt(v.size))
    assert v.std() == pytest.approx(expected_std, rel=0.01)
    # the empirical CDF matches the truncated normal's (a clipped normal would put a
    # lump of mass exactly at a and b)
    for q in (0.1, 0.5, 0.9):
        point = mean + std * (alpha + q * (min(beta, 6) - alpha))
        expected = (cdf((point - mean) / std) - cdf(alpha)) / z
        assert np.mean(v <= point) == pytest.approx(expected, abs=0.005)
    assert np.mean(v == a) + np.mean(v == b) == 0


def test_trunc_normal_errors():
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(mt.empty(3), a=1.0, b=0.0)
    with pytest.raises(ValueError, match="too little"):
        init.trunc_normal_(mt.empty(3), mean=0.0, std=1.0, a=40.0, b=1000.0)


def test_orthogonal():
    mt.manual_seed(5)
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        t = init.orthogonal_(mt.empty(*shape, dtype=mt.float64), gain=2.0)
        flat = t.numpy().reshape(shape[0], -1)
        small = min(flat.shape)
        gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
        np.testing.assert_allclose(gram, 4 * np.eye(small), atol=1e-12)


def test_kaiming_on_empty_tensor_warns():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(mt.empty(0, 3))
