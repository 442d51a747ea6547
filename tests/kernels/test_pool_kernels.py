"""Every implementation of the "pool" kernel family against kernels/reference/pool.py.

"cpu" is Numba, "cuda" the CUDA C through the CPU emulation, "cuda-gpu" the same on a
GPU (skipped without one). Max pooling must agree EXACTLY (values and indices: it
only selects), everything that sums within the dtype's tolerance. Shapes stay small
(at most a few hundred threads per launch) because the emulation runs every thread.
"""
import inspect

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import pool as reference
from minitorch_cv.ops._pool_args import pooled_size
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel, kernel_module
from tests.pool_strategies import batch_and_channels, pool_inputs, pool_windows
from tests.strategies import layouts, with_layout

DTYPES = [np.float32, np.float64]
KERNELS = [
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "adaptive_avg_pool2d_forward",
    "adaptive_avg_pool2d_backward",
    "adaptive_max_pool2d_forward",
    "adaptive_max_pool2d_backward",
    "max_unpool2d_forward",
    "max_unpool2d_backward",
]


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
def test_every_implementation_exports_the_same_kernels(implementation):
    module = kernel_module(implementation, "pool")
    for name in KERNELS:
        expected = inspect.signature(getattr(reference, name))
        assert inspect.signature(getattr(module, name)) == expected, name


def _output_size(geometry):
    return tuple(
        pooled_size(size, K, S, P, D, geometry["ceil_mode"])
        for size, K, S, P, D in zip(
            geometry["size"], geometry["kernel"], geometry["stride"], geometry["padding"], geometry["dilation"]
        )
    )


def _gradient(data, shape, dtype):
    """A random output gradient, in a drawn memory layout."""
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    values = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return with_layout(values, data.draw(layouts(), label="grad layout"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_max_pool2d_matches_reference(implementation, dtype, data):
    geometry = data.draw(pool_windows(), label="geometry")
    N, C = data.draw(batch_and_channels(), label="N, C")
    H, W = geometry["size"]
    x = with_layout(data.draw(pool_inputs((N, C, H, W), dtype)), data.draw(layouts(), label="layout"))
    window = (*geometry["kernel"], *geometry["stride"], *geometry["padding"], *geometry["dilation"])
    OH, OW = _output_size(geometry)

    expected, expected_argmax = reference.max_pool2d_forward(x, *window, OH, OW)
    out, argmax = call_kernel(implementation, "pool", "max_pool2d_forward", x, *window, OH, OW)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(argmax, expected_argmax)
    assert out.dtype == dtype and argmax.dtype == np.int64

    grad_out = _gradient(data, (N, C, OH, OW), dtype)
    expected_grad = reference.max_pool2d_backward(grad_out, expected_argmax, H, W, *window)
    grad_x = call_kernel(implementation, "pool", "max_pool2d_backward", grad_out, expected_argmax, H, W, *window)
    assert grad_x.shape == (N, C, H, W) and grad_x.dtype == dtype
    assert_close(grad_x, expected_grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_avg_pool2d_matches_reference(implementation, dtype, data):
    geometry = data.draw(pool_windows(dilation=False), label="geometry")
    N, C = data.draw(batch_and_channels(), label="N, C")
    H, W = geometry["size"]
    x = with_layout(data.draw(pool_inputs((N, C, H, W), dtype, ties=False)), data.draw(layouts(), label="layout"))
    count_include_pad = data.draw(st.booleans(), label="count_include_pad")
    divisor_override = data.draw(st.sampled_from([0, 0, 1, 3, -2]), label="divisor_override")
    window = (*geometry["kernel"], *geometry["stride"], *geometry["padding"])
    OH, OW = _output_size(geometry)
    options = (count_include_pad, divisor_override)

    expected = reference.avg_pool2d_forward(x, *window, OH, OW, *options)
    out = call_kernel(implementation, "pool", "avg_pool2d_forward", x, *window, OH, OW, *options)
    assert out.dtype == dtype
    assert_close(out, expected, dtype)

    grad_out = _gradient(data, (N, C, OH, OW), dtype)
    expected_grad = reference.avg_pool2d_backward(grad_out, H, W, *window, *options)
    grad_x = call_kernel(implementation, "pool", "avg_pool2d_backward", grad_out, H, W, *window, *options)
    assert grad_x.dtype == dtype
    assert_close(grad_x, expected_grad, dtype)


@st.composite
def adaptive_case(draw):
    N, C = draw(batch_and_channels(), label="N, C")
    H, W = draw(st.integers(1, 9), label="H"), draw(st.integers(1, 9), label="W")
    # Output sizes above the input size are allowed (bins of one pixel, repeated).
    OH, OW = draw(st.integers(1, 10), label="OH"), draw(st.integers(1, 10), label="OW")
    return N, C, H, W, OH, OW


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_adaptive_avg_pool2d_matches_reference(implementation, dtype, data):
    N, C, H, W, OH, OW = data.draw(adaptive_case())
    x = with_layout(data.draw(pool_inputs((N, C, H, W), dtype, ties=False)), data.draw(layouts(), label="layout"))

    out = call_kernel(implementation, "pool", "adaptive_avg_pool2d_forward", x, OH, OW)
    assert out.dtype == dtype
    assert_close(out, reference.adaptive_avg_pool2d_forward(x, OH, OW), dtype)

    grad_out = _gradient(data, (N, C, OH, OW), dtype)
    grad_x = call_kernel(implementation, "pool", "adaptive_avg_pool2d_backward", grad_out, H, W)
    assert grad_x.dtype == dtype
    assert_close(grad_x, reference.adaptive_avg_pool2d_backward(grad_out, H, W), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_adaptive_max_pool2d_matches_reference(implementation, dtype, data):
    N, C, H, W, OH, OW = data.draw(adaptive_case())
    x = with_layout(data.draw(pool_inputs((N, C, H, W), dtype)), data.draw(layouts(), label="layout"))

    expected, expected_argmax = reference.adaptive_max_pool2d_forward(x, OH, OW)
    out, argmax = call_kernel(implementation, "pool", "adaptive_max_pool2d_forward", x, OH, OW)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(argmax, expected_argmax)

    grad_out = _gradient(data, (N, C, OH, OW), dtype)
    grad_x = call_kernel(implementation, "pool", "adaptive_max_pool2d_backward", grad_out, expected_argmax, H, W)
    assert_close(grad_x, reference.adaptive_max_pool2d_backward(grad_out, expected_argmax, H, W), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_max_unpool2d_matches_reference(implementation, dtype, data):
    """Indices either come from a max pooling (the ZFNet use; overlapping windows give
    duplicates, which hold the same value) or are distinct random positions."""
    N, C = data.draw(batch_and_channels(), label="N, C")
    if data.draw(st.booleans(), label="from max_pool2d"):
        geometry = data.draw(pool_windows(), label="geometry")
        OH, OW = geometry["size"]  # the unpooled plane is the pooled input
        window = (*geometry["kernel"], *geometry["stride"], *geometry["padding"], *geometry["dilation"])
        IH, IW = _output_size(geometry)
        source = data.draw(pool_inputs((N, C, OH, OW), dtype))
        x, indices = reference.max_pool2d_forward(source, *window, IH, IW)
        assume((indices >= 0).all())  # a window that saw no input (dilation) has no switch
    else:
        IH, IW = data.draw(st.integers(1, 4), label="IH"), data.draw(st.integers(1, 4), label="IW")
        OH, OW = data.draw(st.integers(IH, 6), label="OH"), data.draw(st.integers(IW, 6), label="OW")
        x = data.draw(pool_inputs((N, C, IH, IW), dtype, ties=False))
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        rng = np.random.default_rng(seed)
        indices = np.stack([rng.permutation(OH * OW)[: IH * IW] for _ in range(N * C)])
        indices = indices.reshape(N, C, IH, IW).astype(np.int64)
    x = with_layout(x, data.draw(layouts(), label="layout"))

    out = call_kernel(implementation, "pool", "max_unpool2d_forward", x, indices, OH, OW)
    assert out.shape == (N, C, OH, OW) and out.dtype == dtype
    np.testing.assert_array_equal(out, reference.max_unpool2d_forward(x, indices, OH, OW))

    grad_out = _gradient(data, (N, C, OH, OW), dtype)
    grad_x = call_kernel(implementation, "pool", "max_unpool2d_backward", grad_out, indices)
    np.testing.assert_array_equal(grad_x, reference.max_unpool2d_backward(grad_out, indices))


@pytest.mark.parametrize("implementation", ["reference", *KERNEL_IMPLEMENTATIONS])
def test_max_pool2d_ties_go_to_the_first_maximum(implementation):
    """Hand-made: in each 2x2 window the first maximum in row-major order wins, and
    indices are ih*W + iw inside the plane (PyTorch's layout)."""
    x = np.array([[1, 3, 3, 0], [2, 3, 1, 3], [0, 0, 5, 5], [0, 5, 0, 5]], dtype=np.float32)[None, None]
    out, argmax = call_kernel(implementation, "pool", "max_pool2d_forward", x, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2)
    np.testing.assert_array_equal(out[0, 0], [[3, 3], [5, 5]])
    np.testing.assert_array_equal(argmax[0, 0], [[1, 2], [13, 10]])


@pytest.mark.parametrize("implementation", ["reference", *KERNEL_IMPLEMENTATIONS])
def test_max_pool2d_nan_and_minus_infinity_windows(implementation):
    """Hand-made, PyTorch's CPU behaviour: a NaN wins (the last one in scan order); a
    window of -inf values points at its first element; a window that covers no input
    (dilation 3 over a 2-pixel row with padding 1) gives -inf and index -1."""
    nan, inf = np.nan, np.inf
    x = np.array([[1.0, nan, 2.0, nan]])[None, None]
    out, argmax = call_kernel(implementation, "pool", "max_pool2d_forward", x, 1, 4, 1, 4, 0, 0, 1, 1, 1, 1)
    assert np.isnan(out[0, 0, 0, 0]) and argmax[0, 0, 0, 0] == 3
    x = np.array([[-inf, -inf]])[None, None]
    out, argmax = call_kernel(implementation, "pool", "max_pool2d_forward", x, 1, 2, 1, 2, 0, 0, 1, 1, 1, 1)
    assert out[0, 0, 0, 0] == -inf and argmax[0, 0, 0, 0] == 0
    x = np.array([[4.0, 5.0]])[None, None]
    # KW=2, SW=1, PW=1, DW=3: window 0 taps columns -1 and 2 (both outside), window 1
    # taps columns 0 and 3.
    out, argmax = call_kernel(implementation, "pool", "max_pool2d_forward", x, 1, 2, 1, 1, 0, 1, 1, 3, 1, 2)
    np.testing.assert_array_equal(out[0, 0, 0], [-inf, 4.0])
    np.testing.assert_array_equal(argmax[0, 0, 0], [-1, 0])
    grad = call_kernel(
        implementation, "pool", "max_pool2d_backward", np.ones((1, 1, 1, 2)), argmax, 1, 2, 1, 2, 1, 1, 0, 1, 1, 3
    )
    np.testing.assert_array_equal(grad[0, 0, 0], [1.0, 0.0])


@pytest.mark.parametrize("implementation", ["reference", *KERNEL_IMPLEMENTATIONS])
def test_overlapping_windows_add_their_gradients(implementation):
    """AlexNet's 3x3 / stride 2 on a 5x5 plane whose maximum is the centre pixel: all
    four windows pick it, so it receives the sum of their four gradients."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    out, argmax = call_kernel(implementation, "pool", "max_pool2d_forward", x, 3, 3, 2, 2, 0, 0, 1, 1, 2, 2)
    np.testing.assert_array_equal(argmax[0, 0], [[12, 12], [12, 12]])
    grad_out = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    grad = call_kernel(implementation, "pool", "max_pool2d_backward", grad_out, argmax, 5, 5, 3, 3, 2, 2, 0, 0, 1, 1)
    expected = np.zeros((5, 5))
    expected[2, 2] = 10.0
    np.testing.assert_array_equal(grad[0, 0], expected)
