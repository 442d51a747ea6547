"""Every implementation of the "resample" kernel family against
kernels/reference/resample.py: "cpu" (Numba), "cuda" (CUDA C through the CPU
emulation), "cuda-gpu" (skipped without a GPU). Nearest must agree exactly (it only
copies), bilinear and bicubic within the dtype's tolerance."""
import inspect
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import resample as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel, kernel_module
from tests.pool_strategies import batch_and_channels
from tests.strategies import arrays, layouts, with_layout

DTYPES = [np.float32, np.float64]
FACTORS = [0.3, 0.5, 2 / 3, 1.0, 1.1, 1.5, 1.7, 2.0, 2.1, 2.5, 3.0]
KERNELS = [
    "upsample_nearest2d_forward",
    "upsample_nearest2d_backward",
    "upsample_bilinear2d_forward",
    "upsample_bilinear2d_backward",
    "upsample_bicubic2d_forward",
    "upsample_bicubic2d_backward",
]


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
def test_every_implementation_exports_the_same_kernels(implementation):
    module = kernel_module(implementation, "resample")
    for name in KERNELS:
        expected = inspect.signature(getattr(reference, name))
        assert inspect.signature(getattr(module, name)) == expected, name


@st.composite
def resample_case(draw, align_corners):
    """(H, W, OH, OW, scale_h, scale_w), the scales computed the three ways the op can:
    H / OH from a size, 1 / scale_factor from a factor, (H-1) / (OH-1) for
    align_corners (see kernels/reference/resample.py)."""
    H, W = draw(st.integers(1, 7), label="H"), draw(st.integers(1, 7), label="W")
    sizes, scales = [], []
    for size in (H, W):
        if draw(st.booleans(), label="from a scale_factor"):
            factor = draw(st.sampled_from(FACTORS), label="scale_factor")
            out_size = max(1, math.floor(size * factor))
            scale = 1.0 / factor
        else:
            out_size = draw(st.integers(1, 12), label="output size")
            scale = size / out_size
        if align_corners:
            scale = (size - 1) / (out_size - 1) if out_size > 1 else 0.0
        sizes.append(out_size)
        scales.append(scale)
    return H, W, sizes[0], sizes[1], scales[0], scales[1]


def _inputs(data, shape, dtype):
    values = data.draw(arrays(shape, dtype=dtype), label="values")
    return with_layout(values, data.draw(layouts(), label="layout"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_upsample_nearest2d_matches_reference(implementation, dtype, data):
    N, C = data.draw(batch_and_channels(), label="N, C")
    H, W, OH, OW, scale_h, scale_w = data.draw(resample_case(align_corners=False))
    x = _inputs(data, (N, C, H, W), dtype)

    out = call_kernel(implementation, "resample", "upsample_nearest2d_forward", x, OH, OW, scale_h, scale_w)
    assert out.shape == (N, C, OH, OW) and out.dtype == dtype
    np.testing.assert_array_equal(out, reference.upsample_nearest2d_forward(x, OH, OW, scale_h, scale_w))

    grad_out = _inputs(data, (N, C, OH, OW), dtype)
    grad_x = call_kernel(implementation, "resample", "upsample_nearest2d_backward", grad_out, H, W, scale_h, scale_w)
    assert grad_x.shape == (N, C, H, W) and grad_x.dtype == dtype
    assert_close(grad_x, reference.upsample_nearest2d_backward(grad_out, H, W, scale_h, scale_w), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_upsample_bilinear2d_matches_reference(implementation, align_corners, dtype, data):
    N, C = data.draw(batch_and_channels(), label="N, C")
    H, W, OH, OW, scale_h, scale_w = data.draw(resample_case(align_corners))
    x = _inputs(data, (N, C, H, W), dtype)
    options = (align_corners, scale_h, scale_w)

    out = call_kernel(implementation, "resample", "upsample_bilinear2d_forward", x, OH, OW, *options)
    assert out.shape == (N, C, OH, OW) and out.dtype == dtype
    assert_close(out, reference.upsample_bilinear2d_forward(x, OH, OW, *options), dtype)

    grad_out = _inputs(data, (N, C, OH, OW), dtype)
    grad_x = call_kernel(implementation, "resample", "upsample_bilinear2d_backward", grad_out, H, W, *options)
    assert grad_x.shape == (N, C, H, W) and grad_x.dtype == dtype
    assert_close(grad_x, reference.upsample_bilinear2d_backward(grad_out, H, W, *options), dtype)


@pytest.mark.parametrize("implementation", ["reference", *KERNEL_IMPLEMENTATIONS])
def test_nearest_uses_float32_and_pytorchs_shortcuts(implementation):
    """Hand-worked rows. W=4 -> 6 with scale_factor 1.7: src = floor(o / 1.7) =
    0 0 1 1 2 2. W=5 -> 10 (= 2W) with scale_factor 2.1: PyTorch's shortcut o // 2,
    not floor(o / 2.1) (which would give 3 at o = 8). W=5 -> 5 with scale_factor 1.1:
    a copy."""
    for W, OW, factor, expected in [
        (4, 6, 1.7, [0, 0, 1, 1, 2, 2]),
        (5, 10, 2.1, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]),
        (5, 5, 1.1, [0, 1, 2, 3, 4]),
    ]:
        x = np.arange(W, dtype=np.float32).reshape(1, 1, 1, W)
        out = call_kernel(implementation, "resample", "upsample_nearest2d_forward", x, 1, OW, 1.0, 1.0 / factor)
        np.testing.assert_array_equal(out[0, 0, 0], expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_upsample_bicubic2d_matches_reference(implementation, align_corners, dtype, data):
    N, C = data.draw(batch_and_channels(), label="N, C")
    H, W, OH, OW, scale_h, scale_w = data.draw(resample_case(align_corners))
    x = _inputs(data, (N, C, H, W), dtype)
    options = (align_corners, scale_h, scale_w)

    out = call_kernel(implementation, "resample", "upsample_bicubic2d_forward", x, OH, OW, *options)
    assert out.shape == (N, C, OH, OW) and out.dtype == dtype
    assert_close(out, reference.upsample_bicubic2d_forward(x, OH, OW, *options), dtype)

    grad_out = _inputs(data, (N, C, OH, OW), dtype)
    grad_x = call_kernel(implementation, "resample", "upsample_bicubic2d_backward", grad_out, H, W, *options)
    assert grad_x.shape == (N, C, H, W) and grad_x.dtype == dtype
    assert_close(grad_x, reference.upsample_bicubic2d_backward(grad_out, H, W, *options), dtype)
