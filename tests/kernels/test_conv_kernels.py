"""im2col / col2im: every implementation against kernels/reference, and the reference
against its own definition.

im2col only copies values, so every implementation must reproduce the reference
exactly. col2im adds up to KH*KW entries per pixel; all implementations add them in the
same order (kh, then kw), but the comparison uses the dtype's tolerance so that a
compiler is free to contract arithmetic differently.
"""

import numpy as np
import pytest
from hypothesis import given

from minitorch_cv.kernels.reference import conv as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel
from tests.strategies import layouts, with_layout
from tests.strategies_conv import conv_cases, seeds

DTYPES = [np.float32, np.float64]


def random_array(seed, shape, dtype):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def col_shape(case):
    return (case.C, case.KH, case.KW, case.N, case.OH, case.OW)


# ------------------------------------------------------ implementations vs reference
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=conv_cases(), layout=layouts(), seed=seeds())
def test_im2col_matches_reference(implementation, dtype, case, layout, seed):
    x = with_layout(random_array(seed, case.input_shape, dtype), layout)
    expected = reference.im2col(x, *case.kernel_args())
    actual = call_kernel(implementation, "conv", "im2col", x, *case.kernel_args())
    assert actual.dtype == expected.dtype
    assert actual.shape == col_shape(case)
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=conv_cases(), layout=layouts(), seed=seeds())
def test_col2im_matches_reference(implementation, dtype, case, layout, seed):
    col = with_layout(random_array(seed, col_shape(case), dtype), layout)
    args = (case.N, case.C, case.H, case.W) + case.kernel_args()
    expected = reference.col2im(col, *args)
    actual = call_kernel(implementation, "conv", "col2im", col, *args)
    assert actual.dtype == expected.dtype
    assert actual.shape == case.input_shape
    assert_close(actual, expected, dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
def test_col2im_checks_the_column_shape(implementation):
    col = np.zeros((2, 3, 3, 1, 4, 4))  # a 5x5 input with 3x3 taps, padding 1 has OH = OW = 5
    with pytest.raises(ValueError, match=r"col must have shape"):
        call_kernel(implementation, "conv", "col2im", col, 1, 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1)


@pytest.mark.parametrize("implementation", ["reference"] + KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "args, message",
    [
        ((3, 3, 0, 1, 0, 0, 1, 1), "SH=0"),  # a zero stride would divide by zero
        ((3, 3, 1, 1, -1, 0, 1, 1), "PH=-1"),
        ((3, 3, 1, 1, 0, 0, 1, 0), "DW=0"),
        ((7, 3, 1, 1, 0, 0, 1, 1), r"\(OH, OW\) = \(-1, 3\)"),  # 7 taps on 5 rows
    ],
)
def test_kernels_refuse_an_invalid_geometry(implementation, args, message):
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(ValueError, match=message):
        call_kernel(implementation, "conv", "im2col", x, *args)


# ------------------------------------------------------ the reference itself
@given(case=conv_cases(max_kernel=3, max_output=3), seed=seeds())
def test_reference_im2col_follows_its_definition(case, seed):
    """col[c, kh, kw, n, oh, ow] = x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW], or 0
    in the padding, checked element by element."""
    x = random_array(seed, case.input_shape, np.float64)
    col = reference.im2col(x, *case.kernel_args())
    assert col.shape == col_shape(case)
    for c, kh, kw, n, oh, ow in np.ndindex(col.shape):
        ih = oh * case.SH - case.PH + kh * case.DH
        iw = ow * case.SW - case.PW + kw * case.DW
        inside = 0 <= ih < case.H and 0 <= iw < case.W
        assert col[c, kh, kw, n, oh, ow] == (x[n, c, ih, iw] if inside else 0.0)


@given(case=conv_cases(), seed=seeds())
def test_reference_col2im_is_the_adjoint_of_im2col(case, seed):
    """<im2col(x), col> == <x, col2im(col)> for random x and col."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.input_shape)
    col = rng.standard_normal(col_shape(case))
    left = np.vdot(reference.im2col(x, *case.kernel_args()), col)
    right = np.vdot(x, reference.col2im(col, case.N, case.C, case.H, case.W, *case.kernel_args()))
    assert left == pytest.approx(right, rel=1e-12, abs=1e-12)


def test_reference_col2im_counts_how_often_each_pixel_is_seen():
    """Folding a column matrix of ones counts, per pixel, the (tap, output) pairs that
    read it: with 3x3 taps, stride 1 and padding 1 on a 4x5 image, that is 9 inside,
    6 on an edge and 4 in a corner."""
    col = np.ones((1, 3, 3, 1, 4, 5))
    counts = reference.col2im(col, 1, 1, 4, 5, 3, 3, 1, 1, 1, 1, 1, 1)[0, 0]
    expected = np.array([[4, 6, 6, 6, 4], [6, 9, 9, 9, 6], [6, 9, 9, 9, 6], [4, 6, 6, 6, 4]])
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(seed=seeds())
def test_col2im_skips_pixels_that_no_tap_reads(implementation, seed):
    """With stride 3 and 1x2 taps, rows 1 and 2 of every stride step are never read:
    they fold back to exactly 0 whatever the columns hold."""
    col = random_array(seed, (1, 1, 2, 1, 2, 3), np.float64)
    x = call_kernel(implementation, "conv", "col2im", col, 1, 1, 6, 4, 1, 2, 3, 1, 0, 0, 1, 1)
    assert np.all(x[0, 0, [1, 2, 4, 5]] == 0)
    assert_close(x, reference.col2im(col, 1, 1, 6, 4, 1, 2, 3, 1, 0, 0, 1, 1), np.float64)
