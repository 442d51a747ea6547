"""nn.StochasticDepth and F.stochastic_depth: torchvision.ops semantics (one keep per
sample or per batch, survivors scaled by 1 / (1 - p), identity in eval), gradients."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.gradcheck import check_backward
from minitorch_cv.nn import functional as F
from minitorch_cv.random import generator
from tests.helpers import DEVICES


def expected_noise(seed, shape, p, dtype=np.float64):
    """The keep mask that a draw from seed ``seed`` gives: uniform >= p, scaled by 1/(1-p)."""
    mt.manual_seed(seed)
    uniform = generator("cpu").random(shape, dtype=dtype)
    return (uniform >= p).astype(dtype) / (1 - p)


def test_row_mode_keeps_or_drops_whole_samples():
    x = mt.ones(4000, 3, 2, 5, dtype=mt.float64)
    mt.manual_seed(0)
    out = F.stochastic_depth(x, 0.3, "row").numpy()
    per_sample = out.reshape(4000, -1)
    dropped = (per_sample == 0).all(1)
    kept = (per_sample == 1 / 0.7).all(1)
    assert np.all(dropped | kept)  # never part of a sample
    assert dropped.mean() == pytest.approx(0.3, abs=0.03)
    np.testing.assert_array_equal(out, x.numpy() * expected_noise(0, (4000, 1, 1, 1), 0.3))


def test_batch_mode_keeps_or_drops_the_whole_batch():
    x = mt.randn(6, 4, 3, dtype=mt.float64)
    outcomes = []
    for seed in range(200):
        mt.manual_seed(seed)
        out = F.stochastic_depth(x, 0.25, "batch").numpy()
        if np.all(out == 0):
            outcomes.append(0)
        else:
            np.testing.assert_allclose(out, x.numpy() / 0.75, rtol=1e-15)
            outcomes.append(1)
    assert np.mean(outcomes) == pytest.approx(0.75, abs=0.1)
    mt.manual_seed(7)
    np.testing.assert_array_equal(F.stochastic_depth(x, 0.25, "batch").numpy(),
                                  x.numpy() * expected_noise(7, (1, 1, 1), 0.25))


def test_identity_in_eval_and_at_p_zero_zero_at_p_one():
    x = mt.randn(5, 3, 4, 4)
    layer = nn.StochasticDepth(0.5, "row").eval()
    assert layer(x) is x  # torchvision returns its input unchanged
    assert F.stochastic_depth(x, 0.0, "row") is x
    assert F.stochastic_depth(x, 0.7, "batch", training=False) is x
    np.testing.assert_array_equal(F.stochastic_depth(x, 1.0, "row").numpy(), 0)
    np.testing.assert_array_equal(nn.StochasticDepth(1.0, "batch")(x).numpy(), 0)
    assert repr(nn.StochasticDepth(0.2, "row")) == "StochasticDepth(p=0.2, mode=row)"


def test_layer_equals_functional_in_training():
    x = mt.randn(16, 2, 3, 3, dtype=mt.float64)
    layer = nn.StochasticDepth(0.4, "row")
    mt.manual_seed(5)
    by_layer = layer(x).numpy()
    mt.manual_seed(5)
    np.testing.assert_array_equal(by_layer, F.stochastic_depth(x, 0.4, "row").numpy())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode, seed", [("row", 3), ("batch", 1), ("batch", 2)])
def test_gradient_float64(device, mode, seed):
    # The same seed before every evaluation: the finite differences see the same mask.
    x = mt.randn(8, 3, 2, 5, dtype=mt.float64, device=device)
    x_strided = mt.randn(5, 2, 3, 8, dtype=mt.float64, device=device).permute(3, 2, 1, 0)

    def fn(t):
        mt.manual_seed(seed)
        return F.stochastic_depth(t, 0.5, mode)

    for inp in (x, x_strided):
        mt.manual_seed(seed)
        out = F.stochastic_depth(inp, 0.5, mode).numpy()
        if mode == "row":  # this seed drops some samples and keeps others
            zero = (out.reshape(8, -1) == 0).all(1)
            assert zero.any() and not zero.all()
        check_backward(fn, [inp])
        check_backward(fn, [inp], exhaustive=True)


@pytest.mark.parametrize("p", [-0.1, 1.5, "half"])
def test_bad_probability(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.StochasticDepth(p, "row")
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.stochastic_depth(mt.ones(2, 3), p, "row")


def test_bad_mode_and_input():
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row'"):
        nn.StochasticDepth(0.1, "sample")
    with pytest.raises(ValueError, match="mode"):
        F.stochastic_depth(mt.ones(2, 3), 0.1, "channel")
    with pytest.raises(TypeError, match="floating point"):
        F.stochastic_depth(mt.ones(2, 3, dtype=mt.int64), 0.1, "row")
    with pytest.raises(TypeError, match="Tensor"):
        F.stochastic_depth(np.ones((2, 3)), 0.1, "row")
    with pytest.raises(ValueError, match="batch dimension"):
        F.stochastic_depth(mt.tensor(1.0), 0.1, "row")
