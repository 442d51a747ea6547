"""Winograd F(2x2, 3x3) transforms: every implementation against kernels/reference, and
the reference against its definition (the matrices applied tile by tile, and the three
transforms around the 16 GEMMs giving the convolution itself).

The transforms add up to 9 terms per value; the implementations group the additions as
the reference's einsum may not, so they are compared with the dtype's tolerance.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import winograd as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel
from tests.ops.conv_testing import direct_conv2d
from tests.strategies import layouts, with_layout
from tests.strategies_conv import seeds

DTYPES = [np.float32, np.float64]


@st.composite
def winograd_cases(draw):
    """(N, C, K, H, W, PH, PW) with a non-empty 3x3 output (H + 2*PH >= 3), odd and even
    output sizes, paddings beyond the kernel's reach (3) included."""
    PH, PW = draw(st.integers(0, 3), label="PH"), draw(st.integers(0, 3), label="PW")
    H = draw(st.integers(max(1, 3 - 2 * PH), 8), label="H")
    W = draw(st.integers(max(1, 3 - 2 * PW), 8), label="W")
    N, C, K = (draw(st.integers(1, 3), label=name) for name in "NCK")
    return N, C, K, H, W, PH, PW


def random_array(seed, shape, dtype):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def output_size(H, W, PH, PW):
    return H + 2 * PH - 2, W + 2 * PW - 2


def m_shape(K, N, OH, OW):
    return (4, 4, K, N) + reference._tile_counts(OH, OW)


# ------------------------------------------------------ implementations vs reference
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=winograd_cases(), layout=layouts(), seed=seeds())
def test_weight_transform_matches_reference(implementation, dtype, case, layout, seed):
    _, C, K, *_ = case
    w = with_layout(random_array(seed, (K, C, 3, 3), dtype), layout)
    actual = call_kernel(implementation, "winograd", "weight_transform", w)
    assert actual.dtype == dtype and actual.shape == (4, 4, K, C)
    assert_close(actual, reference.weight_transform(w), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=winograd_cases(), layout=layouts(), seed=seeds())
def test_input_transform_matches_reference(implementation, dtype, case, layout, seed):
    N, C, _, H, W, PH, PW = case
    x = with_layout(random_array(seed, (N, C, H, W), dtype), layout)
    expected = reference.input_transform(x, PH, PW)
    actual = call_kernel(implementation, "winograd", "input_transform", x, PH, PW)
    assert actual.dtype == dtype and actual.shape == (4, 4, C, N) + reference._tile_counts(*output_size(H, W, PH, PW))
    assert_close(actual, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(case=winograd_cases(), layout=layouts(), seed=seeds(), into=st.booleans())
def test_output_transform_matches_reference(implementation, dtype, case, layout, seed, into):
    """Into a new array, or into ``out``: a batch slice of a bigger array, as the op
    passes it (on the GPU, call_kernel moves the arrays, so only the returned values are
    checked there)."""
    N, _, K, H, W, PH, PW = case
    OH, OW = output_size(H, W, PH, PW)
    m = with_layout(random_array(seed, m_shape(K, N, OH, OW), dtype), layout)
    expected = reference.output_transform(m, OH, OW)
    if into:
        whole = np.full((N + 2, K, OH, OW), 7.0, dtype=dtype)
        actual = call_kernel(implementation, "winograd", "output_transform", m, OH, OW, out=whole[1 : N + 1])
        if implementation != "cuda-gpu":
            assert np.all(whole[0] == 7.0) and np.all(whole[N + 1] == 7.0)
            assert_close(whole[1 : N + 1], expected, dtype)
    else:
        actual = call_kernel(implementation, "winograd", "output_transform", m, OH, OW)
    assert actual.dtype == dtype and actual.shape == (N, K, OH, OW)
    assert_close(actual, expected, dtype)


@pytest.mark.parametrize("implementation", ["reference"] + KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "kernel, args, message",
    [
        ("weight_transform", (np.zeros((2, 1, 3, 2)),), r"w must have 3x3 taps"),
        ("weight_transform", (np.zeros((2, 1, 3)),), r"w must have 4 dims"),
        ("input_transform", (np.zeros((1, 1, 2, 5)), 0, 0), r"\(OH, OW\) = \(0, 3\)"),
        ("input_transform", (np.zeros((1, 1, 4, 4)), -1, 0), r"PH=-1"),
        ("input_transform", (np.zeros((1, 1, 4, 4), dtype=np.int64), 0, 0), r"x must be float32 or float64"),
        ("output_transform", (np.zeros((4, 4, 1, 1, 2, 2)), 3, 5), r"\(TH, TW\) = \(2, 3\)"),
        ("output_transform", (np.zeros((4, 3, 1, 1, 2, 2)), 3, 3), r"m must have shape \(4, 4, K, N, TH, TW\)"),
        ("output_transform", (np.zeros((4, 4, 1, 1, 1, 1)), 0, 2), r"OH=0"),
    ],
)
def test_kernels_refuse_bad_arguments(implementation, kernel, args, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call_kernel(implementation, "winograd", kernel, *args)


@pytest.mark.parametrize("implementation", ["reference", "cpu", "cuda"])
@pytest.mark.parametrize(
    "out, message",
    [
        (np.zeros((1, 2, 3, 3)), r"out must have shape \(1, 1, 3, 3\)"),
        (np.zeros((1, 1, 3, 3), dtype=np.float32), r"out must have the dtype float64"),
        (np.zeros((1, 1, 3, 6))[..., ::2], r"out must be C-contiguous"),
    ],
)
def test_output_transform_refuses_a_bad_out(implementation, out, message):
    """A kernel writes raw memory: ``out`` must be exactly the result's array."""
    m = np.zeros((4, 4, 1, 1, 2, 2))
    with pytest.raises((ValueError, TypeError), match=message):
        call_kernel(implementation, "winograd", "output_transform", m, 3, 3, out=out)


# ------------------------------------------------------ the reference itself
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])


def test_f23_computes_two_outputs_of_a_three_tap_filter():
    """The 1-D identity the method rests on: A^T [(G g) * (B^T d)] = (d0 g0 + d1 g1 + d2 g2,
    d1 g0 + d2 g1 + d3 g2), checked on every d and g of a basis (the identity is bilinear)."""
    for i in range(4):
        for j in range(3):
            d, g = np.eye(4)[i], np.eye(3)[j]
            direct = [d[0:3] @ g, d[1:4] @ g]
            np.testing.assert_array_equal(AT @ ((G @ g) * (BT @ d)), direct)


@given(case=winograd_cases(), seed=seeds())
def test_reference_transforms_follow_their_definitions(case, seed):
    """U = G g G^T per (k, c); V = B^T d B per tile with d read pixel by pixel (0 outside
    the image); y's tile = A^T M A, checked tile by tile (the matrices written out here,
    not taken from the module)."""
    N, C, K, H, W, PH, PW = case
    OH, OW = output_size(H, W, PH, PW)
    TH, TW = reference._tile_counts(OH, OW)
    x, w = random_array(seed, (N, C, H, W), np.float64), random_array(seed + 1, (K, C, 3, 3), np.float64)
    m = random_array(seed + 2, (4, 4, K, N, TH, TW), np.float64)
    U, V, y = reference.weight_transform(w), reference.input_transform(x, PH, PW), reference.output_transform(m, OH, OW)
    for k, c in np.ndindex(K, C):
        np.testing.assert_allclose(U[:, :, k, c], G @ w[k, c] @ G.T, rtol=1e-14, atol=1e-14)
    for c, n, th, tw in np.ndindex(C, N, TH, TW):
        d = np.zeros((4, 4))
        for i, j in np.ndindex(4, 4):
            h, v = 2 * th - PH + i, 2 * tw - PW + j
            if 0 <= h < H and 0 <= v < W:
                d[i, j] = x[n, c, h, v]
        np.testing.assert_allclose(V[:, :, c, n, th, tw], BT @ d @ BT.T, rtol=1e-14, atol=1e-14)
    for k, n, th, tw in np.ndindex(K, N, TH, TW):
        tile = AT @ m[:, :, k, n, th, tw] @ AT.T
        rows, cols = min(2, OH - 2 * th), min(2, OW - 2 * tw)
        np.testing.assert_allclose(
            y[n, k, 2 * th : 2 * th + rows, 2 * tw : 2 * tw + cols], tile[:rows, :cols], rtol=1e-14, atol=1e-14
        )


@given(case=winograd_cases(), seed=seeds())
def test_reference_transforms_around_16_gemms_are_a_convolution(case, seed):
    """output_transform(U[a, b] @ V[a, b]) is conv2d(x, w) with stride 1, padding
    (PH, PW), computed by its definition (tests/ops/conv_testing.direct_conv2d)."""
    N, C, K, H, W, PH, PW = case
    OH, OW = output_size(H, W, PH, PW)
    x, w = random_array(seed, (N, C, H, W), np.float64), random_array(seed + 1, (K, C, 3, 3), np.float64)
    U = reference.weight_transform(w).reshape(16, K, C)
    V = reference.input_transform(x, PH, PW).reshape(16, C, -1)
    y = reference.output_transform((U @ V).reshape(m_shape(K, N, OH, OW)), OH, OW)
    expected = direct_conv2d(x, w, np.zeros(K), (1, 1), (PH, PW), (1, 1), 1)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
