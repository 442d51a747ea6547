"""The ``activation`` kernel family (relu, relu_backward): every implementation (Numba;
CUDA through the CPU emulation; CUDA on a GPU when there is one) against
kernels/reference/activation.py, in float32 and float64, on drawn shapes (0-d and empty
included) and non-contiguous layouts; and the reference against its definition."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import activation as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, call_kernel, kernel_module
from tests.strategies import arrays, layouts, shapes, with_layout

DTYPES = [np.float32, np.float64]


@st.composite
def values(draw, dtype, shape=None):
    """Values in [-2, 2] with exact zeros mixed in (the kink: relu(0) = 0 and relu'(0) = 0)
    in a drawn layout. Elementwise kernels make no rounding, so results must be equal."""
    shape = draw(shapes(max_dims=4)) if shape is None else shape
    x = draw(arrays(shape, dtype=np.float64))
    zeros = draw(arrays(shape, dtype=np.float64)) > 1.0
    return with_layout(np.where(zeros, 0.0, x).astype(dtype), draw(layouts()))


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_relu_matches_the_reference(implementation, dtype, data):
    x = data.draw(values(dtype))
    y = call_kernel(implementation, "activation", "relu", x)
    expected = reference.relu(x)
    assert y.shape == x.shape and y.dtype == dtype
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_relu_backward_matches_the_reference(implementation, dtype, data):
    out = reference.relu(data.draw(values(dtype)))
    grad = data.draw(values(dtype, out.shape))
    dx = call_kernel(implementation, "activation", "relu_backward", grad, out)
    assert dx.shape == out.shape and dx.dtype == dtype
    np.testing.assert_array_equal(dx, reference.relu_backward(grad, out))


def test_the_reference_is_its_definition():
    x = np.array([-2.0, -0.0, 0.0, 0.5, np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(reference.relu(x), [0, 0, 0, 0.5, np.inf, 0, np.nan])
    out = reference.relu(x)
    grad = np.array([1.0, np.nan, np.inf, 2.0, 3.0, 4.0, 5.0])
    # A select: 0 where out is not positive, whatever grad is there (torch's threshold_backward).
    np.testing.assert_array_equal(reference.relu_backward(grad, out), [0, 0, 0, 2.0, 3.0, 0, 0])


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_inf_and_signed_zeros_as_the_reference(implementation, dtype):
    x = np.array([-2.0, -0.0, 0.0, 0.5, np.inf, -np.inf, np.nan], dtype=dtype)
    np.testing.assert_array_equal(call_kernel(implementation, "activation", "relu", x), reference.relu(x))
    grad = np.array([1.0, np.nan, np.inf, 2.0, 3.0, 4.0, 5.0], dtype=dtype)
    out = reference.relu(x)
    np.testing.assert_array_equal(
        call_kernel(implementation, "activation", "relu_backward", grad, out), reference.relu_backward(grad, out)
    )


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda f: f.relu(np.zeros(3, np.int64)), TypeError, "x: expected float32 or float64"),
        (lambda f: f.relu_backward(np.zeros(3), np.zeros(4)), ValueError, r"out: expected shape \(3,\)"),
        (lambda f: f.relu_backward(np.zeros(3), np.zeros(3, np.float32)), TypeError, "out: expected dtype float64"),
    ],
)
def test_bad_input_is_rejected_before_any_kernel_runs(implementation, call, error, message):
    with pytest.raises(error, match=message):
        call(kernel_module(implementation, "activation"))
