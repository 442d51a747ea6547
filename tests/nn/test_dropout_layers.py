"""Dropout and Dropout2d layers: active only in training mode."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn


def test_dropout_train_and_eval():
    layer = nn.Dropout(0.25)
    x = mt.ones(200, 100, dtype=mt.float64)
    mt.manual_seed(0)
    out = layer(x).numpy()
    kept = out != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(out[kept], 1 / 0.75)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    assert repr(layer) == "Dropout(p=0.25, inplace=False)"


def test_dropout2d_zeroes_whole_channels():
    layer = nn.Dropout2d(0.5)
    mt.manual_seed(1)
    out = layer(mt.ones(8, 16, 3, 4, dtype=mt.float64)).numpy()
    per_channel = out.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    x = mt.ones(2, 3, 2, 2)
    np.testing.assert_array_equal(layer.eval()(x).numpy(), x.numpy())


@pytest.mark.parametrize("p", [-0.1, 1.5, "half"])
def test_dropout_probability_is_checked(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(p)
