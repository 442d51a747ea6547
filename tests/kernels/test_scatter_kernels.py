"""scatter_add: every implementation against kernels/reference."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import scatter as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel, kernel_module
from tests.strategies import arrays, layouts, with_layout

DTYPES = [np.float32, np.float64]


@st.composite
def scatter_inputs(draw, dtype):
    """index with repeats (collisions are the point of atomicAdd), values, size."""
    size = draw(st.one_of(st.just(1), st.integers(1, 40)))
    count = draw(st.integers(0, 600))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    hot = draw(st.booleans())  # most values into one element: heavy contention
    index = np.where(rng.random(count) < 0.8, 0, rng.integers(0, size, count)) if hot else rng.integers(0, size, count)
    index = with_layout(index.astype(np.int64), draw(layouts()))
    values = with_layout(draw(arrays((count,), dtype=dtype)), draw(layouts()))
    return index, values, size


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_scatter_add(implementation, dtype, data):
    index, values, size = data.draw(scatter_inputs(dtype))
    out = call_kernel(implementation, "scatter", "scatter_add", index, values, size)
    assert out.shape == (size,) and out.dtype == dtype
    assert_close(out, reference.scatter_add(index, values, size), dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
def test_scatter_add_under_contention_is_exact_for_exact_sums(implementation):
    """Many blocks adding 1 to the same two elements: no update may be lost."""
    index = np.tile(np.array([0, 2], dtype=np.int64), 50_000)
    values = np.ones(index.size, dtype=np.float32)
    out = call_kernel(implementation, "scatter", "scatter_add", index, values, 3)
    np.testing.assert_array_equal(out, [50_000, 0, 50_000])


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "index, values, size, error, message",
    [
        ([0, 5, 1], np.ones(3), 5, IndexError, "index: value 5 is out of bounds for size 5"),
        ([0, -1, 1], np.ones(3), 5, IndexError, "index: value -1 is out of bounds for size 5"),
        ([0], np.ones(1), -1, ValueError, "size: expected an int >= 0, got -1"),
        ([0], np.ones(1), 2.0, ValueError, "size: expected an int >= 0, got 2.0"),
        ([0, 1], np.ones(3), 5, ValueError, r"values: expected the shape of index \(2,\), got \(3,\)"),
        ([0, 1], np.ones(2, np.int64), 5, TypeError, "values: expected a 1-D float32 or float64 array"),
        ([[0, 1]], np.ones(2), 5, TypeError, "index: expected a 1-D int64 array"),
    ],
)
def test_bad_input_is_rejected_before_any_kernel_runs(implementation, index, values, size, error, message):
    with pytest.raises(error, match=message):
        kernel_module(implementation, "scatter").scatter_add(np.array(index, dtype=np.int64), values, size)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
def test_int32_indices_are_rejected(implementation):
    with pytest.raises(TypeError, match="index: expected a 1-D int64 array, got shape \\(2,\\) and dtype int32"):
        kernel_module(implementation, "scatter").scatter_add(np.array([0, 1], np.int32), np.ones(2), 5)
