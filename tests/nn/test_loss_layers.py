"""Loss layers: forward against the functional ops, weight buffers, reductions."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.nn import functional as F


def _logits(seed=0, shape=(6, 4)):
    return mt.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=mt.float64)


TARGET = mt.tensor([0, 3, 1, 1, -100, 2])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss(reduction):
    weight = mt.tensor([1.0, 2.0, 0.5, 1.5], dtype=mt.float64)
    loss = nn.CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=0.1)
    x = _logits()
    expected = F.cross_entropy(x, TARGET, weight=weight, ignore_index=-100, reduction=reduction,
                               label_smoothing=0.1)
    np.testing.assert_array_equal(loss(x, TARGET).numpy(), expected.numpy())


def test_cross_entropy_loss_matches_a_hand_computation():
    x = _logits()
    target = mt.tensor([0, 3, 1, 1, 2, 2])
    data = x.numpy()
    log_probs = data - np.log(np.exp(data).sum(1, keepdims=True))
    expected = -log_probs[np.arange(6), target.numpy()].mean()
    assert nn.CrossEntropyLoss()(x, target).item() == pytest.approx(expected, rel=1e-12)


def test_loss_weight_is_a_buffer():
    loss = nn.CrossEntropyLoss(weight=mt.ones(3))
    assert list(loss.state_dict()) == ["weight"]
    assert list(loss.parameters()) == []
    loss.double()
    assert loss.weight.dtype == mt.float64
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=mt.ones(2)).state_dict()) == ["pos_weight"]


def test_nll_loss():
    x = F.log_softmax(_logits(), 1)
    loss = nn.NLLLoss(ignore_index=-100)
    np.testing.assert_array_equal(loss(x, TARGET).numpy(), F.nll_loss(x, TARGET).numpy())
    kept = TARGET.numpy() != -100
    expected = -x.numpy()[np.arange(6)[kept], TARGET.numpy()[kept]].mean()
    assert loss(x, TARGET).item() == pytest.approx(expected, rel=1e-12)


def test_mse_loss():
    a, b = _logits(1), _logits(2)
    assert nn.MSELoss()(a, b).item() == pytest.approx(((a.numpy() - b.numpy()) ** 2).mean(), rel=1e-12)
    np.testing.assert_array_equal(nn.MSELoss(reduction="none")(a, b).numpy(),
                                  F.mse_loss(a, b, reduction="none").numpy())


def test_bce_with_logits_loss():
    x = _logits(3)
    y = mt.tensor(np.random.default_rng(4).uniform(size=(6, 4)), dtype=mt.float64)
    pos_weight = mt.tensor([1.0, 2.0, 3.0, 0.5], dtype=mt.float64)
    loss = nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="sum")
    expected = F.binary_cross_entropy_with_logits(x, y, None, reduction="sum", pos_weight=pos_weight)
    np.testing.assert_array_equal(loss(x, y).numpy(), expected.numpy())
    data, t = x.numpy(), y.numpy()
    sig = 1 / (1 + np.exp(-data))
    manual = -(pos_weight.numpy() * t * np.log(sig) + (1 - t) * np.log(1 - sig)).sum()
    assert loss(x, y).item() == pytest.approx(manual, rel=1e-10)


def test_reduction_arguments():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.MSELoss(reduce=False).reduction == "none"
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(TypeError, match="weight must be a Tensor"):
        nn.CrossEntropyLoss(weight=[1.0, 2.0])
