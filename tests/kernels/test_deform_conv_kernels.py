"""deform_im2col / deform_col2im / deform_col2offset: every implementation against
kernels/reference, and the reference against its own definition.

The three forms compute each sample with the same arithmetic in the same order, but the
comparisons use the dtype's tolerance: a GPU compiler contracts a*b + c into one fused
multiply-add, the input gradient adds up to 4*KH*KW*OH*OW contributions per pixel in an
order that differs between the implementations (and, with atomics, between runs of the
CUDA kernel), and NumPy sums a group's channels pairwise. Geometries and offsets are
drawn by tests/strategies_deform.py; shapes stay small (at most a few thousand CUDA
threads per launch) because the emulation runs every thread.
"""
import inspect
import math

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.cpu import deform_conv as cpu
from minitorch_cv.kernels.reference import conv as reference_conv
from minitorch_cv.kernels.reference import deform_conv as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel, kernel_module
from tests.ops.deform_conv_testing import bilinear_sample
from tests.strategies import layouts, with_layout
from tests.strategies_conv import ConvCase, seeds
from tests.strategies_deform import DeformCase, deform_cases

DTYPES = [np.float32, np.float64]
KERNELS = ["deform_im2col", "deform_col2im", "deform_col2offset"]


def col_shape(case):
    c = case.conv
    return (c.C, c.KH, c.KW, c.N, c.OH, c.OW)


def column_gradient(seed, case, dtype):
    return np.random.default_rng(seed + 7).standard_normal(col_shape(case)).astype(dtype)


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
def test_every_implementation_exports_the_same_kernels(implementation):
    module = kernel_module(implementation, "deform_conv")
    for name in KERNELS:
        expected = inspect.signature(getattr(reference, name))
        assert inspect.signature(getattr(module, name)) == expected, name


# ------------------------------------------------------ implementations vs reference
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=deform_cases(), with_mask=st.booleans(), layout=layouts(), seed=seeds())
def test_deform_im2col_matches_reference(implementation, dtype, case, with_mask, layout, seed):
    x, offset, mask = case.arrays(seed, dtype)
    x, offset = with_layout(x, layout), with_layout(offset, layout)
    mask = mask if with_mask else None
    args = case.conv.kernel_args()
    expected = reference.deform_im2col(x, offset, mask, *args)
    actual = call_kernel(implementation, "deform_conv", "deform_im2col", x, offset, mask, *args)
    assert actual.dtype == expected.dtype and actual.shape == col_shape(case)
    assert_close(actual, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=deform_cases(), with_mask=st.booleans(), layout=layouts(), seed=seeds())
def test_deform_col2im_matches_reference(implementation, dtype, case, with_mask, layout, seed):
    _, offset, mask = case.arrays(seed, dtype)
    col = with_layout(column_gradient(seed, case, dtype), layout)
    mask = with_layout(mask, layout) if with_mask else None
    c = case.conv
    args = (c.N, c.C, c.H, c.W) + c.kernel_args()
    expected = reference.deform_col2im(col, offset, mask, *args)
    actual = call_kernel(implementation, "deform_conv", "deform_col2im", col, offset, mask, *args)
    assert actual.dtype == expected.dtype and actual.shape == c.input_shape
    assert_close(actual, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=deform_cases(), with_mask=st.booleans(), layout=layouts(), seed=seeds())
def test_deform_col2offset_matches_reference(implementation, dtype, case, with_mask, layout, seed):
    x, offset, mask = case.arrays(seed, dtype)
    col = with_layout(column_gradient(seed, case, dtype), layout)
    x = with_layout(x, layout)
    mask = mask if with_mask else None
    args = case.conv.kernel_args()
    expected = reference.deform_col2offset(col, x, offset, mask, *args)
    actual = call_kernel(implementation, "deform_conv", "deform_col2offset", col, x, offset, mask, *args)
    assert actual[0].dtype == expected[0].dtype and actual[0].shape == case.offset_shape
    assert_close(actual[0], expected[0], dtype)
    if with_mask:
        assert actual[1].shape == case.mask_shape
        assert_close(actual[1], expected[1], dtype)
    else:
        assert actual[1] is None


@pytest.mark.parametrize("implementation", ["reference"] + KERNEL_IMPLEMENTATIONS)
@given(case=deform_cases(offsets=["integer"]), seed=seeds())
def test_zero_offsets_and_a_unit_mask_give_im2col(implementation, case, seed):
    """The samples fall on the pixels themselves: exactly conv's columns, with or without
    a mask of ones (1 * v and the zero-weight corners add nothing)."""
    x, _, _ = case.arrays(seed)
    args = case.conv.kernel_args()
    expected = reference_conv.im2col(x, *args)
    offset = np.zeros(case.offset_shape)
    for mask in (None, np.ones(case.mask_shape)):
        actual = call_kernel(implementation, "deform_conv", "deform_im2col", x, offset, mask, *args)
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("implementation", ["reference"] + KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("value", [1e30, -1e30, np.inf, -np.inf, np.nan])
def test_points_far_away_or_not_finite_sample_nothing(implementation, value):
    """Offsets that no int could hold, infinities and NaNs: every sample, every gradient
    is 0 (the kernels test the point before floor() converts it to an int)."""
    case = DeformCase(conv_case(N=1, C=2, H=3, W=4, KH=2, KW=2), OG=1, offsets="off-grid")
    x, offset, mask = case.arrays(0)
    offset[:] = value
    col = column_gradient(0, case, np.float64)
    args = case.conv.kernel_args()
    sampled = call_kernel(implementation, "deform_conv", "deform_im2col", x, offset, mask, *args)
    grad_x = call_kernel(implementation, "deform_conv", "deform_col2im", col, offset, mask, 1, 2, 3, 4, *args)
    grad_offset, grad_mask = call_kernel(
        implementation, "deform_conv", "deform_col2offset", col, x, offset, mask, *args
    )
    for result in (sampled, grad_x, grad_offset, grad_mask):
        assert np.all(result == 0)


# ------------------------------------------------------ the reference itself
@given(case=deform_cases(max_kernel=2, max_output=3), seed=seeds())
def test_reference_deform_im2col_follows_its_definition(case, seed):
    """col[c, kh, kw, n, oh, ow] = mask * (x[n, c] sampled at the offset tap position),
    channel c using the offsets of group c // (C/OG), checked element by element."""
    x, offset, mask = case.arrays(seed)
    c_ = case.conv
    col = reference.deform_im2col(x, offset, mask, *c_.kernel_args())
    for c, kh, kw, n, oh, ow in np.ndindex(col.shape):
        t = (c // (c_.C // case.OG) * c_.KH + kh) * c_.KW + kw
        ph = oh * c_.SH - c_.PH + kh * c_.DH + offset[n, 2 * t, oh, ow]
        pw = ow * c_.SW - c_.PW + kw * c_.DW + offset[n, 2 * t + 1, oh, ow]
        expected = mask[n, t, oh, ow] * bilinear_sample(x[n, c], ph, pw)
        assert col[c, kh, kw, n, oh, ow] == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(case=deform_cases(), with_mask=st.booleans(), seed=seeds())
def test_reference_col2im_is_the_adjoint_of_im2col(case, with_mask, seed):
    """<deform_im2col(x), col> == <x, deform_col2im(col)> for fixed offsets and mask."""
    x, offset, mask = case.arrays(seed)
    mask = mask if with_mask else None
    col = column_gradient(seed, case, np.float64)
    c = case.conv
    left = np.vdot(reference.deform_im2col(x, offset, mask, *c.kernel_args()), col)
    grad_x = reference.deform_col2im(col, offset, mask, c.N, c.C, c.H, c.W, *c.kernel_args())
    assert left == pytest.approx(np.vdot(x, grad_x), rel=1e-12, abs=1e-12)


@given(case=deform_cases(offsets=["off-grid", "far"]), with_mask=st.booleans(), seed=seeds())
def test_reference_col2offset_differentiates_im2col(case, with_mask, seed):
    """grad_offset is the derivative of L = <deform_im2col(x, offset, mask), col> along a
    random direction (a central difference: no sampling point is near a kink), and,
    L being linear in the mask, grad_mask gives L's change for any change of the mask."""
    x, offset, mask = case.arrays(seed)
    mask = mask if with_mask else None
    col = column_gradient(seed, case, np.float64)
    args = case.conv.kernel_args()

    def loss(offset, mask):
        return np.vdot(reference.deform_im2col(x, offset, mask, *args), col)

    grad_offset, grad_mask = reference.deform_col2offset(col, x, offset, mask, *args)
    rng = np.random.default_rng(seed + 1)
    direction, eps = rng.standard_normal(offset.shape), 1e-6
    numerical = (loss(offset + eps * direction, mask) - loss(offset - eps * direction, mask)) / (2 * eps)
    assert np.vdot(grad_offset, direction) == pytest.approx(numerical, rel=1e-6, abs=1e-7)
    if with_mask:
        change = rng.standard_normal(mask.shape)
        expected = loss(offset, mask + change) - loss(offset, mask)
        assert np.vdot(grad_mask, change) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    else:
        assert grad_mask is None


# ------------------------------------------------------ the CPU scatter is deterministic
def sequential_col2im(col, offset, mask, case):
    """The CPU kernel's documented order, one Python addition at a time: per plane, the
    entries in the order (kh, kw, oh, ow), each onto its corners 00, 01, 10, 11."""
    c_ = case.conv
    grad_x = np.zeros(c_.input_shape)
    for n, c, kh, kw, oh, ow in np.ndindex(c_.N, c_.C, c_.KH, c_.KW, c_.OH, c_.OW):
        t = (c // (c_.C // case.OG) * c_.KH + kh) * c_.KW + kw
        ph = (oh * c_.SH - c_.PH + kh * c_.DH) + offset[n, 2 * t, oh, ow]
        pw = (ow * c_.SW - c_.PW + kw * c_.DW) + offset[n, 2 * t + 1, oh, ow]
        if not (-1 <= ph <= c_.H and -1 <= pw <= c_.W):
            continue
        h0, w0 = math.floor(ph), math.floor(pw)
        lh, lw = ph - h0, pw - w0
        spread = mask[n, t, oh, ow] * col[c, kh, kw, n, oh, ow]
        corners = ((0, 0, (1 - lh) * (1 - lw)), (0, 1, (1 - lh) * lw), (1, 0, lh * (1 - lw)), (1, 1, lh * lw))
        for a, b, weight in corners:
            if 0 <= h0 + a < c_.H and 0 <= w0 + b < c_.W:
                grad_x[n, c, h0 + a, w0 + b] += weight * spread
    return grad_x


@given(case=deform_cases(offsets=["off-grid"], max_output=3), seed=seeds())
def test_cpu_col2im_adds_in_its_documented_order(case, seed):
    """Bit for bit the sequential sum, with one Numba thread and with all of them: each
    thread owns whole planes, so the thread count cannot change any pixel's sum."""
    _, offset, mask = case.arrays(seed)
    col = column_gradient(seed, case, np.float64)
    c = case.conv
    args = (c.N, c.C, c.H, c.W) + c.kernel_args()
    expected = sequential_col2im(col, offset, mask, case)
    previous = numba.get_num_threads()
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            np.testing.assert_array_equal(cpu.deform_col2im(col, offset, mask, *args), expected)
    finally:
        numba.set_num_threads(previous)


# ------------------------------------------------------ bad arguments
def conv_case(N, C, H, W, KH, KW):
    """A stride-1, unpadded ConvCase (tests/strategies_conv.py) of the given sizes."""
    return ConvCase(N, C, H, W, 1, KH, KW, 1, 1, 0, 0, 1, 1, 1, 0, 0)


@pytest.mark.parametrize("implementation", ["reference"] + KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "offset_shape, mask_shape, dtype, message",
    [
        ((1, 16, 2, 3), None, np.float64, r"offset must have shape"),  # 16 is not 2*OG*9
        ((1, 54, 2, 3), None, np.float64, r"C = 2 divisible by OG"),  # OG = 3 does not divide C
        ((1, 18, 3, 3), None, np.float64, r"offset must have shape"),  # OH is 2
        ((1, 18, 2, 3), (1, 18, 2, 3), np.float64, r"mask must have shape \(N, OG\*KH\*KW, OH, OW\)"),
        ((1, 18, 2, 3), None, np.float32, r"offset has dtype float32, expected float64"),
    ],
)
def test_kernels_refuse_offsets_and_masks_of_the_wrong_shape(
    implementation, offset_shape, mask_shape, dtype, message
):
    x = np.zeros((1, 2, 4, 5))  # 3x3 taps: OH, OW = 2, 3
    offset = np.zeros(offset_shape, dtype=dtype)
    mask = None if mask_shape is None else np.zeros(mask_shape)
    with pytest.raises((ValueError, TypeError), match=message):
        call_kernel(implementation, "deform_conv", "deform_im2col", x, offset, mask, 3, 3, 1, 1, 0, 0, 1, 1)


@pytest.mark.parametrize("implementation", ["reference"] + KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("name", ["deform_col2im", "deform_col2offset"])
def test_gradient_kernels_check_the_column_shape(implementation, name):
    x, offset = np.zeros((1, 2, 4, 5)), np.zeros((1, 18, 2, 3))
    col = np.zeros((2, 3, 3, 1, 3, 3))  # OW is 3 but OH is 2
    args = (col, offset, None, 1, 2, 4, 5) if name == "deform_col2im" else (col, x, offset, None)
    with pytest.raises(ValueError, match=r"col must have shape \(C, KH, KW, N, OH, OW\)"):
        call_kernel(implementation, "deform_conv", name, *args, 3, 3, 1, 1, 0, 0, 1, 1)
