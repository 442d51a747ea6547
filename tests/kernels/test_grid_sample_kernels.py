"""The "grid_sample" kernel family: every implementation against
kernels/reference/grid_sample.py (drawn sizes, both paddings, both align_corners,
coordinates past the edges, non-finite and far-away ones), and the reference against
a hand-computed case."""
import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import grid_sample as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel, kernel_module
from tests.strategies import layouts, with_layout
from tests.strategies_conv import seeds

DTYPES = [np.float32, np.float64]
KERNELS = ["grid_sample_forward", "grid_sample_backward"]


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
def test_every_implementation_exports_the_same_kernels(implementation):
    module = kernel_module(implementation, "grid_sample")
    for name in KERNELS:
        assert inspect.signature(getattr(module, name)) == inspect.signature(getattr(reference, name))


@st.composite
def sampling_case(draw):
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    OH, OW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return (N, C, H, W), (N, OH, OW, 2)


def _grid(rng, shape, dtype):
    """Coordinates mostly in [-1.3, 1.3], plus exact edges, a NaN, infinities, and far ones."""
    grid = rng.uniform(-1.3, 1.3, shape)
    flat = grid.reshape(-1)
    specials = [-1.0, 1.0, 0.0, np.nan, np.inf, -np.inf, 1e30, -3.0]
    picks = rng.choice(flat.size, size=min(flat.size, 3), replace=False)
    flat[picks] = rng.choice(specials, size=picks.size)
    return grid.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=sampling_case(), border=st.booleans(), align_corners=st.booleans(), layout=layouts(), seed=seeds())
def test_grid_sample_matches_reference(implementation, dtype, case, border, align_corners, layout, seed):
    rng = np.random.default_rng(seed)
    x_shape, grid_shape = case
    x = with_layout(rng.standard_normal(x_shape).astype(dtype), layout)
    grid = with_layout(_grid(rng, grid_shape, dtype), layout)
    options = (border, align_corners)
    out = call_kernel(implementation, "grid_sample", "grid_sample_forward", x, grid, *options)
    expected = reference.grid_sample_forward(x, grid, *options)
    assert out.shape == expected.shape and out.dtype == dtype
    assert_close(out, expected, dtype)
    grad_out = rng.standard_normal(expected.shape).astype(dtype)
    grad_x, grad_grid = call_kernel(implementation, "grid_sample", "grid_sample_backward", grad_out, x, grid, *options)
    expected_x, expected_grid = reference.grid_sample_backward(grad_out, x, grid, *options)
    assert grad_x.dtype == grad_grid.dtype == dtype
    assert_close(grad_x, expected_x, dtype)
    assert_close(grad_grid, expected_grid, dtype)


def test_reference_by_hand():
    """A 2x2 image sampled at its centre averages the four pixels; with align_corners
    the grid's corners are the pixel centres, without it the image's outer corners."""
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    centre = np.zeros((1, 1, 1, 2))
    assert reference.grid_sample_forward(x, centre, False, False)[0, 0, 0, 0] == 2.5
    corners = np.array([[[[-1.0, -1.0], [1.0, 1.0]]]])
    np.testing.assert_allclose(reference.grid_sample_forward(x, corners, False, True)[0, 0, 0], [1.0, 4.0])
    np.testing.assert_allclose(reference.grid_sample_forward(x, corners, False, False)[0, 0, 0], [0.25, 1.0])
    np.testing.assert_allclose(reference.grid_sample_forward(x, corners, True, False)[0, 0, 0], [1.0, 4.0])
    far = np.array([[[[np.nan, 0.0], [5.0, 0.0]]]])
    assert reference.grid_sample_forward(x, far, False, False).tolist() == [[[[0.0, 0.0]]]]
