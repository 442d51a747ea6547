"""cross_entropy, nll_loss, mse_loss, binary_cross_entropy_with_logits: values against
plain NumPy formulas written here, one hand-worked case, gradients against finite
differences (float64, the target as a no-grad input for class indices), bad input."""
import contextlib
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.nn.functional as F
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES, assert_close
from tests.strategies import layouts, make_tensor

REDUCTIONS = ["none", "mean", "sum"]


# ------------------------------------------------------------- NumPy formulas
def numpy_log_softmax(x, dim):
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def numpy_reduce(losses, reduction, denominator):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    with np.errstate(invalid="ignore"):
        return losses.sum() / denominator


def numpy_cross_entropy(x, target, weight, ignore_index, reduction, eps):
    """PyTorch's documented formula, element by element: (1 - eps) * the weighted NLL
    + eps / C * the weighted sum over classes; mean divides by sum of w[target]."""
    num_classes = x.shape[1]
    weight = np.ones(num_classes) if weight is None else weight
    log_probs = np.moveaxis(numpy_log_softmax(x, 1), 1, -1).reshape(-1, num_classes)
    losses, denominator = [], 0.0
    for row, t in enumerate(target.reshape(-1)):
        if t == ignore_index:
            losses.append(0.0)
            continue
        nll = -weight[t] * log_probs[row, t]
        smooth = -(weight * log_probs[row]).sum()
        losses.append((1 - eps) * nll + eps / num_classes * smooth)
        denominator += weight[t]
    return numpy_reduce(np.array(losses).reshape(target.shape), reduction, denominator)


def numpy_nll_loss(x, target, weight, ignore_index, reduction):
    num_classes = x.shape[1]
    weight = np.ones(num_classes) if weight is None else weight
    flat_x = np.moveaxis(x, 1, -1).reshape(-1, num_classes)
    losses, denominator = [], 0.0
    for row, t in enumerate(target.reshape(-1)):
        if t == ignore_index:
            losses.append(0.0)
            continue
        losses.append(-weight[t] * flat_x[row, t])
        denominator += weight[t]
    return numpy_reduce(np.array(losses).reshape(target.shape), reduction, denominator)


def numpy_cross_entropy_probabilities(x, probs, weight, reduction, eps):
    num_classes = x.shape[1]
    weight = np.ones(num_classes) if weight is None else weight
    smoothed = probs * (1 - eps) + eps / num_classes
    shape = (num_classes,) + (1,) * (x.ndim - 2)
    losses = -(numpy_log_softmax(x, 1) * smoothed * weight.reshape(shape)).sum(axis=1)
    return numpy_reduce(losses, reduction, losses.size)


# ------------------------------------------------------------------ strategies
@st.composite
def classification_cases(draw):
    """Logits (N, C, d1..dk) with N 1..3, C in {1, 2, ...6}, k in 0..2, in a drawn
    memory layout (tests/strategies.py); int64 targets with ignore_index present at a
    drawn rate (the first element always a class, so a mean is never 0/0); optional
    weights; eps; reduction."""
    n = draw(st.integers(1, 3))
    num_classes = draw(st.integers(1, 6))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    shape = (n, num_classes) + spatial
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape) * draw(st.sampled_from([1.0, 4.0]))
    ignore_index = draw(st.sampled_from([-100, 1, 255]))
    target = rng.integers(0, num_classes, (n,) + spatial)
    target[rng.random(target.shape) < draw(st.sampled_from([0.0, 0.4]))] = ignore_index
    target.reshape(-1)[0] = 0  # never ignored: ignore_index is never 0 here
    weight = rng.uniform(0.2, 2.0, num_classes) if draw(st.booleans()) else None
    return {
        "x": x,
        "layout": draw(layouts()),
        "target": target.astype(np.int64),
        "weight": weight,
        "ignore_index": ignore_index,
        "eps": draw(st.sampled_from([0.0, 0.1, 0.5])),
        "reduction": draw(st.sampled_from(REDUCTIONS)),
        "probs": rng.dirichlet(np.ones(num_classes), (n,) + spatial).transpose(
            (0, len(shape) - 1) + tuple(range(1, len(shape) - 1))
        ),
    }


def _tensors(case, device, dtype=np.float64):
    x = make_tensor(case["x"].astype(dtype), device, case["layout"])
    target = mt.tensor(case["target"], device=device)
    weight = None if case["weight"] is None else mt.tensor(case["weight"], dtype=dtype, device=device)
    return x, target, weight


# ---------------------------------------------------------------- cross_entropy
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(case=classification_cases())
def test_cross_entropy_values(device, dtype, case):
    x, target, weight = _tensors(case, device, dtype)
    loss = F.cross_entropy(x, target, weight, case["ignore_index"], case["reduction"], case["eps"])
    expected = numpy_cross_entropy(
        case["x"], case["target"], case["weight"], case["ignore_index"], case["reduction"], case["eps"]
    )
    assert loss.dtype == dtype and loss.shape == np.shape(expected)
    assert_close(loss, np.asarray(expected, dtype=dtype), dtype)


@pytest.mark.parametrize("device", DEVICES)
@given(case=classification_cases())
def test_cross_entropy_gradient(device, case):
    x, target, weight = _tensors(case, device)
    args = (weight, case["ignore_index"], case["reduction"], case["eps"])
    check_backward(lambda a, t: F.cross_entropy(a, t, *args), [x, target])


@pytest.mark.parametrize("device", DEVICES)
@given(case=classification_cases())
def test_cross_entropy_probability_targets(device, case):
    x, _, weight = _tensors(case, device)
    probs = mt.tensor(case["probs"], device=device)
    loss = F.cross_entropy(x, probs, weight, reduction=case["reduction"], label_smoothing=case["eps"])
    expected = numpy_cross_entropy_probabilities(
        case["x"], case["probs"], case["weight"], case["reduction"], case["eps"]
    )
    assert_close(loss, np.asarray(expected))
    check_backward(
        lambda a, p: F.cross_entropy(a, p, weight, reduction=case["reduction"], label_smoothing=case["eps"]),
        [x, probs],
    )


def test_cross_entropy_hand_worked_case():
    """weight + ignore_index + label_smoothing, derived from PyTorch's formula by hand.

    C = 2, w = (1, 2), eps = 0.2, rows [0, 0] -> log p = (-ln 2, -ln 2), target 1;
    [ln 3, 0] -> p = (3/4, 1/4), target 0; a third row ignored.
      weighted NLL:  2 ln 2 + ln(4/3),      denominator w[1] + w[0] = 3
      smooth sums:   row 0: (1 + 2) ln 2;  row 1: ln(4/3) + 2 ln 4  -> 7 ln 2 + ln(4/3)
      mean = (0.8 (2 ln 2 + ln 4/3) + 0.1 (7 ln 2 + ln 4/3)) / 3
           = (2.3 ln 2 + 0.9 ln(4/3)) / 3 = 0.6177174601648...
    (torch.nn.functional.cross_entropy gives 0.6177174601648256 for the same call.)
    """
    x = mt.tensor([[0.0, 0.0], [math.log(3), 0.0], [5.0, -2.0]], dtype=mt.float64)
    target = mt.tensor([1, 0, -100])
    weight = mt.tensor([1.0, 2.0], dtype=mt.float64)
    loss = F.cross_entropy(x, target, weight=weight, label_smoothing=0.2)
    assert loss.item() == pytest.approx((2.3 * math.log(2) + 0.9 * math.log(4 / 3)) / 3, rel=1e-12)
    assert loss.item() == pytest.approx(0.6177174601648, rel=1e-12)
    per_row = F.cross_entropy(x, target, weight=weight, label_smoothing=0.2, reduction="none")
    assert per_row.numpy()[2] == 0


def test_cross_entropy_segmentation_through_emulated_cuda():
    """(N, C, H, W) with ignore_index, weight and smoothing through the CUDA kernels."""
    rng = np.random.default_rng(3)
    x = mt.tensor(rng.standard_normal((2, 5, 3, 4)))
    labels = rng.integers(0, 5, (2, 3, 4))
    labels[0, 1, :2] = 255
    target = mt.tensor(labels)
    weight = mt.tensor(rng.uniform(0.5, 2.0, 5))
    with backend.use_cpu_kernels("cuda"):
        for reduction in REDUCTIONS:
            loss = F.cross_entropy(x, target, weight, 255, reduction, 0.1)
            expected = numpy_cross_entropy(x.numpy(), labels, weight.numpy(), 255, reduction, 0.1)
            assert_close(loss, expected)
        check_backward(lambda a, t: F.cross_entropy(a, t, weight, 255, "mean", 0.1), [x, target])


def test_cross_entropy_unbatched_and_all_ignored():
    x = mt.tensor([0.5, -1.0, 2.0], dtype=mt.float64)
    expected = -numpy_log_softmax(x.numpy(), 0)[2]
    assert F.cross_entropy(x, mt.tensor(2)).item() == pytest.approx(expected, rel=1e-12)
    assert F.cross_entropy(x, mt.tensor(2), reduction="none").shape == ()
    # A mean over no target is 0/0 = NaN, as in PyTorch; the sum is 0.
    logits = mt.randn(3, 4)
    ignored = mt.tensor([-100, -100, -100])
    assert math.isnan(F.cross_entropy(logits, ignored).item())
    assert F.cross_entropy(logits, ignored, reduction="sum").item() == 0


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
def test_cross_entropy_empty_batch(implementation):
    """No sample: the mean is NaN and the sum 0 (PyTorch), and no kernel is launched
    on an empty grid."""
    x = mt.zeros(0, 3, requires_grad=True)
    with backend.use_cpu_kernels(implementation):
        assert math.isnan(F.cross_entropy(x, mt.zeros(0).long()).item())
        assert math.isnan(F.cross_entropy(x, mt.zeros(0, 3)).item())
        total = F.cross_entropy(x, mt.zeros(0).long(), reduction="sum")
        total.backward()
    assert total.item() == 0 and x.grad.shape == (0, 3)


def test_cross_entropy_large_logits_stay_finite():
    offsets = np.array([[0.0, 2.0, -1.0], [1.0, 1.0, 1.0]])
    target = mt.tensor([1, 2])
    x = mt.tensor(1e4 + offsets, dtype=mt.float32)
    expected = numpy_cross_entropy(offsets, np.array([1, 2]), None, -100, "none", 0.3)
    loss = F.cross_entropy(x, target, reduction="none", label_smoothing=0.3)
    assert_close(loss, expected.astype(np.float32))
    x64 = mt.tensor(1e4 + offsets)
    check_backward(lambda a, t: F.cross_entropy(a, t, label_smoothing=0.3), [x64, target])


# -------------------------------------------------------------------- nll_loss
@pytest.mark.parametrize("device", DEVICES)
@given(case=classification_cases())
def test_nll_loss_values_and_gradient(device, case):
    x, target, weight = _tensors(case, device)
    args = (weight, case["ignore_index"], case["reduction"])
    expected = numpy_nll_loss(
        case["x"], case["target"], case["weight"], case["ignore_index"], case["reduction"]
    )
    assert_close(F.nll_loss(x, target, *args), np.asarray(expected))
    check_backward(lambda a, t: F.nll_loss(a, t, *args), [x, target])


def test_nll_loss_of_log_softmax_is_cross_entropy():
    rng = np.random.default_rng(4)
    x = mt.tensor(rng.standard_normal((4, 3, 2)))
    target = mt.tensor(rng.integers(0, 3, (4, 2)))
    assert_close(F.nll_loss(F.log_softmax(x, 1), target), F.cross_entropy(x, target))


# -------------------------------------------------------------------- mse_loss
@st.composite
def regression_cases(draw):
    """(input, target) shapes: equal, or a target that broadcasts (size-1 dims)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    target_shape = shape
    if draw(st.booleans()):
        target_shape = tuple(1 if draw(st.booleans()) else side for side in shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal(shape), rng.standard_normal(target_shape), draw(st.sampled_from(REDUCTIONS))


def _expect_broadcast_warning(x, y):
    """PyTorch warns when mse_loss broadcasts a target of another shape, and only then."""
    if x.shape != y.shape:
        return pytest.warns(UserWarning, match="target size")
    return _warnings_as_errors()


@contextlib.contextmanager
def _warnings_as_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("device", DEVICES)
@given(case=regression_cases())
def test_mse_loss_values_and_gradients(device, case):
    x_values, y_values, reduction = case
    x, y = mt.tensor(x_values, device=device), mt.tensor(y_values, device=device)
    squares = (x_values - y_values) ** 2
    with _expect_broadcast_warning(x, y):
        loss = F.mse_loss(x, y, reduction)
    assert_close(loss, np.asarray(numpy_reduce(squares, reduction, squares.size)))
    with _expect_broadcast_warning(x, y):
        check_backward(lambda a, b: F.mse_loss(a, b, reduction), [x, y])


# --------------------------------------------- binary_cross_entropy_with_logits
@st.composite
def binary_cases(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weight = None
    if draw(st.booleans()):
        weight = rng.uniform(0.2, 2.0, shape[-1:] if draw(st.booleans()) else shape)
    pos_weight = rng.uniform(0.2, 3.0, shape[-1:]) if draw(st.booleans()) else None
    x = rng.standard_normal(shape) * 3
    return x, rng.random(shape), weight, pos_weight, draw(st.sampled_from(REDUCTIONS))


@pytest.mark.parametrize("device", DEVICES)
@given(case=binary_cases())
def test_bce_with_logits_values_and_gradients(device, case):
    x_values, y_values, w_values, pw_values, reduction = case
    x, y = mt.tensor(x_values, device=device), mt.tensor(y_values, device=device)
    weight = None if w_values is None else mt.tensor(w_values, device=device)
    pos_weight = None if pw_values is None else mt.tensor(pw_values, device=device)
    # The textbook formula (fine for |x| of a few units in float64).
    sigmoid = 1 / (1 + np.exp(-x_values))
    pw = 1.0 if pw_values is None else pw_values
    w = 1.0 if w_values is None else w_values
    losses = -w * (pw * y_values * np.log(sigmoid) + (1 - y_values) * np.log(1 - sigmoid))
    losses = np.broadcast_to(losses, x_values.shape)
    loss = F.binary_cross_entropy_with_logits(x, y, weight, reduction, pos_weight)
    assert_close(loss, np.asarray(numpy_reduce(losses, reduction, losses.size)))
    check_backward(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight, reduction, pos_weight), [x, y]
    )


def test_bce_with_logits_is_stable_for_large_logits():
    """log(sigmoid(-100)) underflows in the textbook formula; the loss is ~ |x|."""
    x = mt.tensor([100.0, -100.0, 100.0], dtype=mt.float32)
    y = mt.tensor([0.0, 1.0, 1.0], dtype=mt.float32)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none").numpy()
    np.testing.assert_allclose(loss, [100.0, 100.0, 0.0], atol=1e-6)


# ------------------------------------------------------------------ bad input
def test_cross_entropy_bad_input():
    x, target = mt.randn(3, 4), mt.tensor([0, 1, 2])
    with pytest.raises(TypeError, match="int64"):
        F.cross_entropy(x, target.int())
    with pytest.raises(ValueError, match="target must have shape"):
        F.cross_entropy(x, mt.tensor([0, 1]))
    with pytest.raises(ValueError, match="probabilities"):
        F.cross_entropy(x, mt.rand(3))
    with pytest.raises(IndexError, match="target 4 is out of bounds"):
        F.cross_entropy(x, mt.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.cross_entropy(x, mt.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.cross_entropy(x, target, weight=mt.ones(3))
    with pytest.raises(TypeError, match="weight must have the input's dtype"):
        F.cross_entropy(x, target, weight=mt.ones(4, dtype=mt.float64))
    with pytest.raises(RuntimeError, match="not differentiable with respect to weight"):
        F.cross_entropy(x, target, weight=mt.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, target, reduction="avg")
    for eps in (-0.1, 1.5):
        with pytest.raises(ValueError, match="label_smoothing"):
            F.cross_entropy(x, target, label_smoothing=eps)
    with pytest.raises(TypeError, match="floating point"):
        F.cross_entropy(mt.tensor([[1, 2]]), mt.tensor([0]))
    with pytest.raises(ValueError, match="class dim"):
        F.cross_entropy(mt.tensor(1.0), mt.tensor(0))
    with pytest.raises(ValueError, match="at least one class"):
        F.cross_entropy(mt.randn(3, 0), target)
    # ignore_index may be any value, also a valid class index
    F.cross_entropy(x, mt.tensor([0, 7, 1]), ignore_index=7)


def test_other_losses_bad_input():
    x = mt.randn(3, 4)
    with pytest.raises(TypeError, match="int64"):
        F.nll_loss(x, mt.rand(3))
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(x, mt.tensor([0, 1, 9]))
    with pytest.raises(ValueError, match="reduction"):
        F.nll_loss(x, mt.tensor([0, 1, 2]), reduction="mean ")
    with pytest.raises(TypeError, match="dtype"):
        F.mse_loss(x, mt.randn(3, 4, dtype=mt.float64))
    with pytest.raises(ValueError, match="does not broadcast"):
        F.mse_loss(x, mt.randn(2, 4))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, mt.rand(4))
    with pytest.raises(ValueError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(x, mt.rand(3, 4), pos_weight=mt.rand(3))
    with pytest.raises(RuntimeError, match="not differentiable with respect to weight"):
        F.binary_cross_entropy_with_logits(x, mt.rand(3, 4), weight=mt.rand(3, 4, requires_grad=True))
