"""Every implementation of the ``softmax`` kernel family against kernels/reference.

Shapes are drawn with rows >= 1 and 1, 2 or more classes, including more columns than
the CUDA block has threads (BLOCK = 256), so the block-strided loops and the shared
memory reductions run with idle threads, one entry per thread and several. Emulated
CUDA runs every thread of a block as a fiber, so rows stay few.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.cpu import softmax as cpu_kernels
from minitorch_cv.kernels.reference import softmax as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel

DTYPES = [np.float32, np.float64]
IGNORE_INDEX = -100


@st.composite
def row_arrays(draw):
    """(x, dy, seed): x of shape (rows, cols) with rows in [1, 4] and cols in {1, 2,
    3..300}; values standard normal times a drawn scale (up to 30, so some rows are
    nearly one-hot)."""
    rows = draw(st.integers(1, 4))
    cols = draw(st.one_of(st.sampled_from([1, 2, 256, 257]), st.integers(3, 300)))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1.0, 5.0, 30.0]))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols)) * scale
    dy = rng.standard_normal((rows, cols))
    return x, dy, rng


@st.composite
def cross_entropy_cases(draw):
    """(x, target, weight, label_smoothing, grad_loss) with some targets ignored."""
    x, _, rng = draw(row_arrays())
    rows, cols = x.shape
    target = rng.integers(0, cols, rows).astype(np.int64)
    ignored = rng.random(rows) < draw(st.sampled_from([0.0, 0.3, 1.0]))
    target[ignored] = IGNORE_INDEX
    weight = rng.uniform(0.1, 2.0, cols) if draw(st.booleans()) else np.ones(cols)
    label_smoothing = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    grad_loss = rng.standard_normal(rows)
    return x, target, weight, label_smoothing, grad_loss


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("kernel", ["softmax", "log_softmax"])
@given(case=row_arrays())
def test_row_kernels_match_reference(implementation, kernel, dtype, case):
    x, dy, _ = case
    x, dy = x.astype(dtype), dy.astype(dtype)
    forward, backward = kernel + "_forward", kernel + "_backward"

    y = call_kernel(implementation, "softmax", forward, x)
    expected_y = getattr(reference, forward)(x)
    assert y.dtype == dtype and y.shape == x.shape
    assert_close(y, expected_y, dtype)

    # Backward from the same saved output, so only the backward kernel is compared.
    dx = call_kernel(implementation, "softmax", backward, expected_y, dy)
    assert dx.dtype == dtype
    assert_close(dx, getattr(reference, backward)(expected_y, dy), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=cross_entropy_cases())
def test_cross_entropy_kernels_match_reference(implementation, dtype, case):
    x, target, weight, label_smoothing, grad_loss = case
    x, weight, grad_loss = x.astype(dtype), weight.astype(dtype), grad_loss.astype(dtype)
    args = (IGNORE_INDEX, label_smoothing)

    loss, lse = call_kernel(implementation, "softmax", "cross_entropy_forward", x, target, weight, *args)
    expected_loss, expected_lse = reference.cross_entropy_forward(x, target, weight, *args)
    assert loss.dtype == dtype and lse.dtype == dtype
    assert_close(loss, expected_loss, dtype)
    assert_close(lse, expected_lse, dtype)
    assert np.all(loss[target == IGNORE_INDEX] == 0)

    dx = call_kernel(
        implementation, "softmax", "cross_entropy_backward", x, expected_lse, target, weight, grad_loss, *args
    )
    expected_dx = reference.cross_entropy_backward(x, expected_lse, target, weight, grad_loss, *args)
    assert dx.dtype == dtype
    assert_close(dx, expected_dx, dtype)
    assert np.all(dx[target == IGNORE_INDEX] == 0)


def test_reference_cross_entropy_is_log_softmax_plus_nll():
    """The fused reference against its definition, term by term, for one small case."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    target = np.array([2, IGNORE_INDEX, 0])
    weight = np.array([0.5, 1.0, 2.0, 1.5])
    eps = 0.2
    log_probs = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    loss, lse = reference.cross_entropy_forward(x, target, weight, IGNORE_INDEX, eps)
    for row, t in ((0, 2), (2, 0)):
        nll = -weight[t] * log_probs[row, t]
        smooth = -(weight * log_probs[row]).sum()
        np.testing.assert_allclose(loss[row], (1 - eps) * nll + eps / 4 * smooth, rtol=1e-12)
    assert loss[1] == 0
    np.testing.assert_allclose(lse, np.log(np.exp(x).sum(axis=1)), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", ["reference"] + KERNEL_IMPLEMENTATIONS)
def test_large_logits_stay_finite(implementation, dtype):
    """Rows near 1e4 (exp would overflow even float64 without the max shift) give the
    softmax of the same row shifted to near 0."""
    offsets = np.array([[0.0, 1.0, -2.0, 0.5], [3.0, 3.0, 3.0, 3.0]])
    x = (1e4 + offsets).astype(dtype)
    for kernel, expected in (
        ("softmax_forward", np.exp(offsets) / np.exp(offsets).sum(axis=1, keepdims=True)),
        ("log_softmax_forward", offsets - np.log(np.exp(offsets).sum(axis=1, keepdims=True))),
    ):
        if implementation == "reference":
            y = getattr(reference, kernel)(x)
        else:
            y = call_kernel(implementation, "softmax", kernel, x)
        assert np.all(np.isfinite(y))
        assert_close(y, expected.astype(dtype), dtype)


def test_cpu_kernels_on_the_thread_pool(monkeypatch):
    """The drawn shapes are small, so the Numba kernels ran on one thread; here every
    array is large enough for Numba's thread pool (more rows than threads, rows of
    uneven length), and the results must not change."""
    monkeypatch.setattr(cpu_kernels, "_PARALLEL_MIN_ELEMENTS", 0)
    rng = np.random.default_rng(5)
    rows, cols = 37, 301
    x, dy = rng.standard_normal((rows, cols)) * 4, rng.standard_normal((rows, cols))
    target = rng.integers(0, cols, rows)
    target[::5] = IGNORE_INDEX
    weight, grad_loss = rng.uniform(0.1, 2.0, cols), rng.standard_normal(rows)
    for kernel in ("softmax", "log_softmax"):
        y = getattr(reference, kernel + "_forward")(x)
        assert_close(getattr(cpu_kernels, kernel + "_forward")(x), y)
        expected = getattr(reference, kernel + "_backward")(y, dy)
        assert_close(getattr(cpu_kernels, kernel + "_backward")(y, dy), expected)
    args = (IGNORE_INDEX, 0.1)
    loss, lse = reference.cross_entropy_forward(x, target, weight, *args)
    for actual, expected in zip(cpu_kernels.cross_entropy_forward(x, target, weight, *args), (loss, lse)):
        assert_close(actual, expected)
    assert_close(
        cpu_kernels.cross_entropy_backward(x, lse, target, weight, grad_loss, *args),
        reference.cross_entropy_backward(x, lse, target, weight, grad_loss, *args),
    )
