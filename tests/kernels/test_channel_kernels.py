"""channel_sums and channel_scale_shift: every implementation against kernels/reference."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import channel as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel, kernel_module
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
    """x (offset from zero, so that the shift matters) in a drawn layout."""
    shape = draw(channel_shapes())
    x = draw(arrays(shape, dtype=dtype, low=-2.0, high=2.0)) + dtype(draw(st.sampled_from([0.0, 3.0, -50.0])))
    return with_layout(x.astype(dtype), draw(layouts()))


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_channel_sums(implementation, dtype, data):
    x = data.draw(channel_inputs(dtype))
    C = x.shape[1]
    shift = data.draw(st.one_of(st.none(), arrays((C,), dtype=dtype, low=-3.0, high=3.0)))
    if shift is not None:
        shift = with_layout(shift, data.draw(layouts()))
    sums, squares = call_kernel(implementation, "channel", "channel_sums", x, shift)
    expected_sums, expected_squares = reference.channel_sums(x, shift)
    assert sums.shape == squares.shape == (C,)
    assert sums.dtype == squares.dtype == dtype
    assert_close(sums, expected_sums, dtype)
    assert_close(squares, expected_squares, dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_channel_scale_shift(implementation, dtype, data):
    x = data.draw(channel_inputs(dtype))
    C = x.shape[1]
    scale = with_layout(data.draw(arrays((C,), dtype=dtype)), data.draw(layouts()))
    shift = with_layout(data.draw(arrays((C,), dtype=dtype)), data.draw(layouts()))
    y = call_kernel(implementation, "channel", "channel_scale_shift", x, scale, shift)
    assert y.shape == x.shape and y.dtype == dtype
    assert_close(y, reference.channel_scale_shift(x, scale, shift), dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
def test_channel_sums_of_a_batch_norm_sized_input(implementation):
    """Many elements per thread and a mean far from zero: the shifted second pass gives
    the variance that the unshifted sums would lose to cancellation in float32."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 16, 32, 32)) * 0.1 + 1000.0).astype(np.float32)
    sums, _ = call_kernel(implementation, "channel", "channel_sums", x)
    M = x.size // x.shape[1]
    mean = (sums / M).astype(np.float32)
    shifted_sums, shifted_squares = call_kernel(implementation, "channel", "channel_sums", x, mean)
    variance = shifted_squares / M - (shifted_sums / M) ** 2
    expected = x.astype(np.float64).var(axis=(0, 2, 3))
    np.testing.assert_allclose(variance, expected, rtol=1e-3)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda f: f.channel_sums(np.zeros(3, np.float32)), ValueError, r"x: expected an array of shape \(N, C, ...\)"),
        (lambda f: f.channel_sums(np.zeros((2, 3), np.int64)), TypeError, "x: expected float32 or float64"),
        (lambda f: f.channel_sums(np.zeros((2, 3)), np.zeros(2)), ValueError, r"shift: expected shape \(3,\)"),
        (lambda f: f.channel_sums(np.zeros((2, 3)), np.zeros(3, np.float32)), TypeError, "shift: expected dtype float64"),
        (
            lambda f: f.channel_scale_shift(np.zeros((2, 3, 4)), np.zeros(4), np.zeros(3)),
            ValueError,
            r"scale: expected shape \(3,\)",
        ),
        (
            lambda f: f.channel_scale_shift(np.zeros((2, 3, 4)), np.zeros(3), np.zeros((3, 1))),
            ValueError,
            r"shift: expected shape \(3,\)",
        ),
    ],
)
def test_bad_input_is_rejected_before_any_kernel_runs(implementation, call, error, message):
    with pytest.raises(error, match=message):
        call(kernel_module(implementation, "channel"))


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("shape", [(0, 3, 2, 2), (2, 0, 4), (2, 3, 0)])
def test_empty_dimensions(implementation, shape):
    x = np.zeros(shape, dtype=np.float32)
    C = shape[1]
    sums, squares = call_kernel(implementation, "channel", "channel_sums", x)
    np.testing.assert_array_equal(sums, np.zeros(C, np.float32))
    np.testing.assert_array_equal(squares, np.zeros(C, np.float32))
    scale, shift = np.ones(C, np.float32), np.ones(C, np.float32)
    y = call_kernel(implementation, "channel", "channel_scale_shift", x, scale, shift)
    assert y.shape == shape and y.dtype == np.float32
