"""Every implementation of the "distance" kernel family against kernels/reference/distance.py,
and the reference against the definitions it implements.

"cpu" is Numba, "cuda" the CUDA C through the CPU emulation, "cuda-gpu" the same on a GPU
(skipped without one). Shapes cross the CUDA tile side (16) in both directions and in
the features, so that ragged tiles and several feature chunks are exercised, and stay
small because the emulation runs every thread.
"""
import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import distance as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, call_kernel, kernel_module, tolerance
from tests.strategies import layouts, with_layout

DTYPES = [np.float32, np.float64]
KERNELS = ["squared_l2_distances", "l1_distances"]


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
def test_every_implementation_exports_the_same_kernels(implementation):
    module = kernel_module(implementation, "distance")
    for name in KERNELS:
        expected = inspect.signature(getattr(reference, name))
        assert inspect.signature(getattr(module, name)) == expected, name


@st.composite
def vector_pairs(draw, dtype, integers=False):
    """x1 (Q, D) and x2 (T, D) in drawn memory layouts; Q and T up to 40 (up to three
    16-wide tiles, the last one ragged), D up to 40 (up to three feature chunks), with
    1 and 0 drawn often. ``integers``: pixel-like values 0..255, many equal rows."""
    Q = draw(st.one_of(st.just(1), st.integers(1, 40)), label="Q")
    T = draw(st.one_of(st.just(1), st.integers(1, 40)), label="T")
    D = draw(st.one_of(st.sampled_from([0, 1]), st.integers(1, 40)), label="D")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    if integers:
        x2 = rng.integers(0, 256, (T, D)).astype(dtype)
        # Queries copied from training rows (distance 0) and training rows repeated
        # (exact ties): the cases where an inexact sum would show.
        x1 = rng.integers(0, 256, (Q, D)).astype(dtype)
        x1[: Q // 2] = x2[rng.integers(0, T, Q // 2)]
        x2[T // 2 :] = x2[rng.integers(0, max(1, T // 2), T - T // 2)]
    else:
        x1 = rng.standard_normal((Q, D)).astype(dtype)
        x2 = rng.standard_normal((T, D)).astype(dtype)
    x1 = with_layout(x1, draw(layouts(), label="x1 layout"))
    x2 = with_layout(x2, draw(layouts(), label="x2 layout"))
    return x1, x2


def _assert_l2_close(actual, expected, x1, x2):
    """The L2 expansion cancels: its rounding error scales with |x1[q]|^2 + |x2[t]|^2, the
    terms that cancel, not with the distance. The GEMM's error is at most about
    D * eps * |x1[q]| |x2[t]| <= D * eps * (|x1[q]|^2 + |x2[t]|^2) / 2, which for D <= 40 is
    below the dtype's rtol times that scale; so the bound is rtol * scale + atol."""
    tol = tolerance(actual.dtype)
    scale = (x1.astype(np.float64) ** 2).sum(1)[:, None] + (x2.astype(np.float64) ** 2).sum(1)[None, :]
    error = np.abs(actual.astype(np.float64) - expected)
    bound = tol["rtol"] * scale + tol["atol"]
    worst = error.argmax()
    assert np.all(error <= bound), f"largest error {error.ravel()[worst]} exceeds its bound {bound.ravel()[worst]}"


# ---------------------------------------------------------- the reference itself
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_reference_matches_the_definitions(dtype, data):
    """sum of squared differences / absolute differences, straight from the formula in
    float64 (a (Q, T, D) array: the shapes are small)."""
    x1, x2 = data.draw(vector_pairs(dtype))
    differences = x1.astype(np.float64)[:, None, :] - x2.astype(np.float64)[None, :, :]
    l2 = reference.squared_l2_distances(x1, x2)
    assert l2.shape == (x1.shape[0], x2.shape[0]) and l2.dtype == dtype
    _assert_l2_close(l2, (differences**2).sum(axis=2), x1, x2)
    l1 = reference.l1_distances(x1, x2)
    assert l1.dtype == dtype
    np.testing.assert_allclose(l1, np.abs(differences).sum(axis=2), **tolerance(dtype))


def test_reference_l1_blocks_give_the_unblocked_result(monkeypatch):
    """A workspace of one query row's intermediate: the block loop runs Q times."""
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((7, 5)), rng.standard_normal((4, 5))
    expected = reference.l1_distances(x1, x2)
    monkeypatch.setattr(reference, "_BLOCK_BYTES", 4 * 5 * 8)
    np.testing.assert_array_equal(reference.l1_distances(x1, x2), expected)


@given(data=st.data())
def test_integer_inputs_in_float64_give_exact_distances(data):
    """The claim of the reference's docstring: raw pixels in float64 make the L2 expansion
    exact (so ties are real ties), and L1 exact, whatever the summation order."""
    x1, x2 = data.draw(vector_pairs(np.float64, integers=True))
    differences = x1.astype(np.int64)[:, None, :] - x2.astype(np.int64)[None, :, :]
    np.testing.assert_array_equal(reference.squared_l2_distances(x1, x2), (differences**2).sum(axis=2))
    np.testing.assert_array_equal(reference.l1_distances(x1, x2), np.abs(differences).sum(axis=2))


# ----------------------------------------------------- every implementation vs reference
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_squared_l2_distances_match_reference(implementation, dtype, data):
    x1, x2 = data.draw(vector_pairs(dtype))
    d = call_kernel(implementation, "distance", "squared_l2_distances", x1, x2)
    assert d.shape == (x1.shape[0], x2.shape[0]) and d.dtype == dtype
    assert np.all(d >= 0)
    _assert_l2_close(d, reference.squared_l2_distances(x1, x2), x1, x2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_l1_distances_match_reference(implementation, dtype, data):
    x1, x2 = data.draw(vector_pairs(dtype))
    d = call_kernel(implementation, "distance", "l1_distances", x1, x2)
    assert d.shape == (x1.shape[0], x2.shape[0]) and d.dtype == dtype
    np.testing.assert_allclose(d, reference.l1_distances(x1, x2), **tolerance(dtype))


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_pixel_distances_are_exact_in_every_implementation(implementation, data):
    """Integer pixels: float64 L2 and L1, and float32 L1 (sums below 2^24), are exact, so
    every implementation returns the reference's values bit for bit, ties included."""
    x1, x2 = data.draw(vector_pairs(np.float64, integers=True))
    for name in KERNELS:
        expected = getattr(reference, name)(x1, x2)
        np.testing.assert_array_equal(call_kernel(implementation, "distance", name, x1, x2), expected)
    x1, x2 = x1.astype(np.float32), x2.astype(np.float32)
    expected = reference.l1_distances(x1, x2)
    np.testing.assert_array_equal(call_kernel(implementation, "distance", "l1_distances", x1, x2), expected)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("name", KERNELS)
def test_empty_sets_give_empty_distance_matrices(implementation, name):
    for Q, T in ((0, 3), (3, 0), (0, 0)):
        d = call_kernel(implementation, "distance", name, np.zeros((Q, 4)), np.zeros((T, 4)))
        assert d.shape == (Q, T)


@pytest.mark.parametrize("implementation", ["reference", "cpu", "cuda"])
@pytest.mark.parametrize("name", KERNELS)
def test_bad_inputs_raise_before_any_kernel_runs(implementation, name):
    fn = getattr(kernel_module(implementation, "distance"), name)
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="x1: expected a 2-D array"):
        fn(np.zeros(4), x)
    with pytest.raises(ValueError, match="x2: expected 4 features"):
        fn(x, np.zeros((3, 5)))
    with pytest.raises(TypeError, match="x2: expected dtype float64"):
        fn(x, x.astype(np.float32))
    with pytest.raises(TypeError, match="x1: expected float32 or float64, got int64"):
        fn(x.astype(np.int64), x)
