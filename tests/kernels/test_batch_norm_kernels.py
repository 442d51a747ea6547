"""The ``batch_norm`` kernel family (statistics, scale_shift, backward): every
implementation (Numba; CUDA through the CPU emulation; CUDA on a GPU when there is one)
against kernels/reference/batch_norm.py, in float32 and float64, over drawn shapes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import batch_norm as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel, kernel_module
from tests.kernels.norm_testing import EPS, check_kernel, draw_values
from tests.strategies import arrays, layouts, with_layout

DTYPES = [np.float32, np.float64]


@st.composite
def channel_shapes(draw):
    """(N, C), (N, C, L) or (N, C, H, W) with H != W allowed; batch 1 and channel 1 often."""
    N = draw(st.one_of(st.just(1), st.integers(1, 3)))
    C = draw(st.one_of(st.just(1), st.integers(1, 5)))
    spatial = draw(st.lists(st.integers(1, 7), min_size=0, max_size=2))
    return (N, C, *spatial)


@st.composite
def channel_inputs(draw, dtype):
    """x (offset from zero, so that the statistics' second pass matters) in a drawn layout."""
    shape = draw(channel_shapes())
    x = draw(arrays(shape, dtype=dtype, low=-2.0, high=2.0)) + dtype(draw(st.sampled_from([0.0, 3.0, -50.0])))
    return with_layout(x.astype(dtype), draw(layouts()))


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_batch_norm_statistics(implementation, dtype, data):
    x = data.draw(channel_inputs(dtype))
    C = x.shape[1]
    mean, var = call_kernel(implementation, "batch_norm", "batch_norm_statistics", x)
    expected_mean, expected_var = reference.batch_norm_statistics(x)
    assert mean.shape == var.shape == (C,)
    assert mean.dtype == var.dtype == np.float64  # float64 statistics for both builds
    assert_close(mean, expected_mean, dtype)
    assert_close(var, expected_var, dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_batch_norm_scale_shift(implementation, dtype, data):
    x = data.draw(channel_inputs(dtype))
    C = x.shape[1]
    scale = with_layout(data.draw(arrays((C,), dtype=dtype)), data.draw(layouts()))
    shift = with_layout(data.draw(arrays((C,), dtype=dtype)), data.draw(layouts()))
    y = call_kernel(implementation, "batch_norm", "batch_norm_scale_shift", x, scale, shift)
    assert y.shape == x.shape and y.dtype == dtype
    assert_close(y, reference.batch_norm_scale_shift(x, scale, shift), dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
def test_batch_norm_statistics_of_a_batch_norm_sized_input(implementation):
    """Many elements per thread and a mean far from zero: the two-pass statistics keep
    the variance that the unshifted sums of squares would lose to cancellation."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 16, 32, 32)) * 0.1 + 1000.0).astype(np.float32)
    mean, variance = call_kernel(implementation, "batch_norm", "batch_norm_statistics", x)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(variance, x64.var(axis=(0, 2, 3)), rtol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_batch_norm_backward_kernels(implementation, dtype, data):
    N = data.draw(st.integers(1, 4), label="N")
    C = data.draw(st.integers(1, 4), label="C")
    S = data.draw(st.one_of(st.integers(1, 6), st.just(70)), label="S")  # N * S up to 280
    x = draw_values(data.draw, (N, C, S), dtype)
    dy = draw_values(data.draw, (N, C, S), dtype, distinct=False)
    weight = draw_values(data.draw, (C,), dtype, distinct=False) if data.draw(st.booleans()) else None

    x64 = x.astype(np.float64)  # batch statistics (what batch_norm_statistics gives)
    mean = x64.mean(axis=(0, 2)).astype(dtype)
    var = x64.var(axis=(0, 2))
    invstd = (1.0 / np.sqrt(var + EPS)).astype(dtype)
    sums = reference.batch_norm_backward_reduce(dy, x, mean, invstd)
    check_kernel(implementation, "batch_norm", "batch_norm_backward_reduce", (dy, x, mean, invstd), sums, dtype)
    check_kernel(implementation, "batch_norm", "batch_norm_backward_input", (dy, x, mean, invstd, weight, *sums),
           reference.batch_norm_backward_input(dy, x, mean, invstd, weight, *sums), dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda f: f.batch_norm_statistics(np.zeros(3, np.float32)), ValueError, r"x: expected an array of shape \(N, C, ...\)"),
        (lambda f: f.batch_norm_statistics(np.zeros((2, 3), np.int64)), TypeError, "x: expected float32 or float64"),
        (
            lambda f: f.batch_norm_scale_shift(np.zeros((2, 3)), np.zeros(3, np.float32), np.zeros(3)),
            TypeError,
            "scale: expected dtype float64",
        ),
        (
            lambda f: f.batch_norm_scale_shift(np.zeros((2, 3, 4)), np.zeros(4), np.zeros(3)),
            ValueError,
            r"scale: expected shape \(3,\)",
        ),
        (
            lambda f: f.batch_norm_scale_shift(np.zeros((2, 3, 4)), np.zeros(3), np.zeros((3, 1))),
            ValueError,
            r"shift: expected shape \(3,\)",
        ),
    ],
)
def test_bad_input_is_rejected_before_any_kernel_runs(implementation, call, error, message):
    with pytest.raises(error, match=message):
        call(kernel_module(implementation, "batch_norm"))


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("shape", [(0, 3, 2, 2), (2, 0, 4), (2, 3, 0)])
def test_empty_dimensions(implementation, shape):
    x = np.zeros(shape, dtype=np.float32)
    C = shape[1]
    mean, var = call_kernel(implementation, "batch_norm", "batch_norm_statistics", x)
    assert mean.shape == var.shape == (C,)
    assert np.isnan(mean).all() and np.isnan(var).all()  # the mean of no values, as in NumPy
    scale, shift = np.ones(C, np.float32), np.ones(C, np.float32)
    y = call_kernel(implementation, "batch_norm", "batch_norm_scale_shift", x, scale, shift)
    assert y.shape == shape and y.dtype == np.float32
