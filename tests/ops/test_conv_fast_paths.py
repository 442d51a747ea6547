"""The fast paths of ops/conv.py against the specification, on drawn geometries.

The specification of the three building blocks is the module docstring's algebra on the
reference kernels (kernels/reference/conv.py), written out here once per block:

    forward          y      = w @ im2col(x)              per group
    input gradient   grad_x = col2im(w^T @ grad_y)
    weight gradient  grad_w = grad_y @ im2col(x)^T       summed over the batch

and every path that ops/conv.py may take is compared with it: conv_forward (im2col in
batch chunks, or per-sample products for pointwise layers), conv_input_grad (col2im, or
for stride 1 the convolution of grad_y with the flipped weight),
conv_weight_grad (per-sample or one-GEMM pointwise products), _stride_one_gradients
(both gradients from the columns of grad_y) and _forward_by_winograd (3x3, stride 1). Geometries: non-square kernels, paddings,
dilations, groups (depthwise included), batch 1, single channels, and non-contiguous
arrays; stride 1 where a path needs it, any stride elsewhere. float64 must agree to
rounding; float32 within the dot-product bound (n + 3) * eps32 * sum |terms| of
tests/ops/test_conv.py, n being the number of products in each sum.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv import backend
from minitorch_cv.kernels.reference import conv as reference
from minitorch_cv.kernels.reference import winograd as reference_winograd
from minitorch_cv.ops import conv as conv_ops
from tests.ops.conv_testing import random
from tests.strategies import layouts, with_layout
from tests.strategies_conv import ConvCase, conv_cases, seeds


def geometry_of(case):
    return conv_ops.Geometry(case.KH, case.KW, case.SH, case.SW, case.PH, case.PW, case.DH, case.DW, case.G)


def _rows(a, G):
    B, K, OH, OW = a.shape
    return a.transpose(1, 0, 2, 3).reshape(G, K // G, B * OH * OW)


def spec_forward(x, w, case):
    K = w.shape[0]
    col = reference.im2col(x, *case.kernel_args()).reshape(case.G, -1, case.N * case.OH * case.OW)
    y = w.reshape(case.G, K // case.G, -1) @ col
    return y.reshape(K, case.N, case.OH, case.OW).transpose(1, 0, 2, 3)


def spec_input_grad(grad_y, w, case):
    K, Cg, KH, KW = w.shape
    w_cols = w.reshape(case.G, K // case.G, Cg * KH * KW).transpose(0, 2, 1)
    col = (w_cols @ _rows(grad_y, case.G)).reshape(case.C, KH, KW, case.N, case.OH, case.OW)
    return reference.col2im(col, case.N, case.C, case.H, case.W, *case.kernel_args())


def spec_weight_grad(x, grad_y, case):
    col = reference.im2col(x, *case.kernel_args()).reshape(case.G, -1, case.N * case.OH * case.OW)
    grad_w = _rows(grad_y, case.G) @ col.transpose(0, 2, 1)
    return grad_w.reshape(case.weight_shape)


def stride_one_cases():
    """Stride 1 with a padding within the kernel's reach: where the flipped convolution
    and _stride_one_gradients apply."""
    return conv_cases(max_stride=1).filter(
        lambda c: c.PH <= c.DH * (c.KH - 1) and c.PW <= c.DW * (c.KW - 1)
    )


def pointwise_case(N, C, H, W, K, G):
    """1x1 kernel, stride 1, no padding: the layers that need no columns."""
    return ConvCase(N, C, H, W, K, 1, 1, 1, 1, 0, 0, 1, 1, G, 0, 0)


def operands(case, seed, layout, dtype=np.float64):
    """x, w, grad_y in ``dtype``, x and grad_y in a drawn (possibly strided) layout."""
    x = with_layout(random(seed, case.input_shape).astype(dtype), layout)
    w = random(seed + 1, case.weight_shape).astype(dtype)
    grad_y = with_layout(random(seed + 2, case.output_shape).astype(dtype), layout)
    return x, w, grad_y


def assert_float32_within_bound(r32, r64, magnitude, n):
    """|r32 - r64| <= (n + 3) eps32 * magnitude: a float32 dot product of n terms."""
    eps32 = np.finfo(np.float32).eps
    assert r32.dtype == np.float32
    assert np.all(np.abs(r32 - r64) <= (n + 3) * eps32 * magnitude + np.finfo(np.float32).tiny)


# ---------------------------------------------------------------- float64: every path = the spec
@given(case=conv_cases(), seed=seeds(), layout=layouts())
def test_every_path_matches_the_specification(case, seed, layout):
    """Whatever path ops/conv.py takes for the geometry (chunked im2col, pointwise
    products, col2im or the flipped convolution)."""
    x, w, grad_y = operands(case, seed, layout)
    g = geometry_of(case)
    np.testing.assert_allclose(conv_ops.conv_forward(x, w, g), spec_forward(x, w, case), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        conv_ops.conv_input_grad(grad_y, w, g, case.H, case.W), spec_input_grad(grad_y, w, case),
        rtol=1e-10, atol=1e-12,
    )
    np.testing.assert_allclose(
        conv_ops.conv_weight_grad(x, grad_y, g, case.KH, case.KW), spec_weight_grad(x, grad_y, case),
        rtol=1e-10, atol=1e-12,
    )


@given(case=stride_one_cases(), seed=seeds(), layout=layouts())
def test_stride_one_paths_match_the_specification(case, seed, layout):
    x, w, grad_y = operands(case, seed, layout)
    g = geometry_of(case)
    expected_x, expected_w = spec_input_grad(grad_y, w, case), spec_weight_grad(x, grad_y, case)
    flipped = conv_ops._input_grad_as_convolution(grad_y, w, g)
    grad_x, grad_w = conv_ops._stride_one_gradients(x, grad_y, w, g)
    for actual in (flipped, grad_x):
        assert actual.shape == case.input_shape
        np.testing.assert_allclose(actual, expected_x, rtol=1e-10, atol=1e-12)
    assert grad_w.shape == case.weight_shape
    np.testing.assert_allclose(grad_w, expected_w, rtol=1e-10, atol=1e-12)


@given(data=st.data(), seed=seeds())
def test_pointwise_paths_match_the_specification(data, seed):
    """Tiny images (H*W below K/G and C/G: one GEMM for the weight gradient) and bigger
    ones (per-sample products)."""
    G = data.draw(st.integers(1, 2), label="G")
    case = pointwise_case(
        data.draw(st.integers(1, 3), label="N"), G * data.draw(st.integers(1, 5), label="C/G"),
        *data.draw(st.sampled_from([(1, 1), (1, 2), (2, 3), (4, 3)]), label="H, W"),
        G * data.draw(st.integers(1, 5), label="K/G"), G,
    )
    x, w, grad_y = operands(case, seed, data.draw(layouts(), label="layout"))
    g = geometry_of(case)
    np.testing.assert_allclose(conv_ops.conv_forward(x, w, g), spec_forward(x, w, case), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        conv_ops.conv_weight_grad(x, grad_y, g, 1, 1), spec_weight_grad(x, grad_y, case), rtol=1e-10, atol=1e-12
    )


# ---------------------------------------------------------------- float32 within the bound
@given(case=stride_one_cases(), seed=seeds(), layout=layouts())
def test_stride_one_paths_in_float32(case, seed, layout):
    """grad_x sums K/G*KH*KW products per pixel, grad_w N*OH*OW per weight (the bound
    counts every tap of the window, padding zeros included: an upper bound)."""
    g = geometry_of(case)
    x, w, grad_y = operands(case, seed, layout, np.float32)
    grad_x32, grad_w32 = conv_ops._stride_one_gradients(x, grad_y, w, g)
    flipped32 = conv_ops._input_grad_as_convolution(grad_y, w, g)
    x, w, grad_y = operands(case, seed, layout)
    grad_x64, grad_w64 = spec_input_grad(grad_y, w, case), spec_weight_grad(x, grad_y, case)
    magnitude_x = spec_input_grad(np.abs(grad_y), np.abs(w), case)
    magnitude_w = spec_weight_grad(np.abs(x), np.abs(grad_y), case)
    terms_x = case.K // case.G * case.KH * case.KW
    assert_float32_within_bound(grad_x32, grad_x64, magnitude_x, terms_x)
    assert_float32_within_bound(flipped32, grad_x64, magnitude_x, terms_x)
    assert_float32_within_bound(grad_w32, grad_w64, magnitude_w, case.N * case.OH * case.OW)


@pytest.mark.parametrize("shape", [(2, 8, 1, 1), (3, 6, 1, 2)])
def test_tiny_image_pointwise_weight_gradient_in_float32(shape):
    """The one-GEMM weight gradient of a 1x1 layer on a 1x1 (or 1x2) feature map."""
    N, C, H, W = shape
    case = pointwise_case(N, C, H, W, 10, 2)
    g = geometry_of(case)
    assert H * W < min(case.K // case.G, case.C // case.G)  # the one-GEMM path
    x, w, grad_y = operands(case, 7, "contiguous", np.float32)
    grad_w32 = conv_ops.conv_weight_grad(x, grad_y, g, 1, 1)
    x, w, grad_y = operands(case, 7, "contiguous")
    expected = spec_weight_grad(x, grad_y, case)
    magnitude = spec_weight_grad(np.abs(x), np.abs(grad_y), case)
    assert_float32_within_bound(grad_w32, expected, magnitude, N * H * W)


# ---------------------------------------------------------------- Winograd F(2x2, 3x3)
@st.composite
def winograd_cases(draw):
    """3x3 kernel, stride 1, dilation 1, one group (the geometries _forward_by_winograd
    serves), any padding up to 3 (beyond the kernel's reach too), odd and even outputs,
    a single channel or pixel included."""
    PH, PW = draw(st.integers(0, 3), label="PH"), draw(st.integers(0, 3), label="PW")
    H = draw(st.integers(max(1, 3 - 2 * PH), 9), label="H")
    W = draw(st.integers(max(1, 3 - 2 * PW), 9), label="W")
    N, C, K = draw(st.integers(1, 2), label="N"), draw(st.integers(1, 4), label="C"), draw(st.integers(1, 4), label="K")
    return ConvCase(N, C, H, W, K, 3, 3, 1, 1, PH, PW, 1, 1, 1, 0, 0)


@given(case=winograd_cases(), seed=seeds(), layout=layouts())
def test_winograd_matches_the_specification(case, seed, layout):
    x, w, _ = operands(case, seed, layout)
    y = conv_ops._forward_by_winograd(x, w, geometry_of(case))
    assert y.shape == case.output_shape
    np.testing.assert_allclose(y, spec_forward(x, w, case), rtol=1e-10, atol=1e-12)


def winograd_magnitude(x, w, case):
    """The F(2x2, 3x3) pipeline on |x| and |w| with the matrices' absolute values: every
    value it computes bounds the magnitude of the sum that computes it."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("_BT", "_G", "_AT"):
            patch.setattr(reference_winograd, name, np.abs(getattr(reference_winograd, name)))
        U = reference_winograd.weight_transform(np.abs(w)).reshape(16, case.K, case.C)
        V = reference_winograd.input_transform(np.abs(x), case.PH, case.PW).reshape(16, case.C, -1)
        M = (U @ V).reshape((4, 4, case.K, case.N) + reference_winograd._tile_counts(case.OH, case.OW))
        return reference_winograd.output_transform(M, case.OH, case.OW)


@given(case=winograd_cases(), seed=seeds(), layout=layouts())
def test_winograd_in_float32(case, seed, layout):
    """|y32 - y64| <= (C + 12) eps32 * magnitude, magnitude being winograd_magnitude. To
    first order, with each sum's error at most (terms - 1) eps times its absolute sum:
    U = G g G^T makes two passes of 3-term sums (4 eps; the halvings are exact), V = B^T d B
    two passes of 2-term sums (2 eps), M a product (1 eps) and a C-term sum (C - 1 eps),
    y = A^T M A two passes of 3-term sums (4 eps): C + 10 eps, plus 2 for the second-order
    terms."""
    g = geometry_of(case)
    x, w, _ = operands(case, seed, layout, np.float32)
    y32 = conv_ops._forward_by_winograd(x, w, g)
    x, w, _ = operands(case, seed, layout)
    assert_float32_within_bound(y32, spec_forward(x, w, case), winograd_magnitude(x, w, case), case.C + 9)


def spy_on_winograd(monkeypatch):
    """Records the calls that conv_forward makes to _forward_by_winograd."""
    calls = []
    winograd = conv_ops._forward_by_winograd

    def recorded(x, w, geometry):
        calls.append(x.shape)
        return winograd(x, w, geometry)

    monkeypatch.setattr(conv_ops, "_forward_by_winograd", recorded)
    return calls


@pytest.mark.parametrize(
    "shape, pays",
    [  # (N, C, K, H=W), padding 1: the measurements _winograd_pays's docstring lists
        ((128, 8, 8, 32), True), ((128, 16, 16, 32), True), ((128, 32, 32, 16), True),
        ((128, 64, 64, 8), True), ((128, 64, 64, 6), True), ((128, 128, 128, 4), True),
        ((128, 512, 512, 4), True), ((8, 64, 64, 56), True), ((1, 64, 64, 56), True),
        ((128, 3, 16, 32), False), ((128, 4, 16, 32), False), ((128, 16, 16, 8), False),
        ((128, 64, 64, 4), False), ((8, 16, 16, 32), False), ((1, 16, 16, 32), False),
        ((128, 512, 512, 2), False), ((128, 256, 256, 2), False), ((1, 256, 256, 14), False),
    ],
)
def test_winograd_is_taken_where_it_was_measured_to_pay(shape, pays):
    N, C, K, H = shape
    g = conv_ops.Geometry(3, 3, 1, 1, 1, 1, 1, 1, 1)
    assert conv_ops._winograd_pays(g, N, C, H, H, "cpu") == pays
    assert not conv_ops._winograd_pays(g, N, C, H, H, "gpu")


@pytest.mark.parametrize("implementation", ["reference", "cpu", "cuda"])
@pytest.mark.parametrize(
    "shape, stride, padding, dilation, takes_winograd",
    [  # with the thresholds lowered to 4 channels, 8 tiles and 64 channel-tiles
        ((2, 4, 4, 4), 1, 1, 1, False),  # 2 * 2 * 2 tiles, 4 * 8 = 32 channel-tiles: too few
        ((2, 4, 6, 5), 1, 1, 1, True),  # 2 * 3 * 3 = 18 tiles, 72 channel-tiles
        ((1, 5, 8, 9), 1, 0, 1, False),  # no padding: a 6x7 output, 3 * 4 tiles, 60: too few
        ((1, 6, 8, 9), 1, 0, 1, True),  # 72 channel-tiles
        ((2, 3, 8, 8), 1, 1, 1, False),  # 3 channels
        ((1, 8, 4, 5), 1, 1, 1, False),  # 2 * 3 = 6 tiles
        ((2, 4, 9, 9), 2, 1, 1, False),  # stride 2
        ((2, 4, 9, 9), 1, 2, 2, False),  # dilation 2
    ],
)
def test_conv_forward_takes_winograd_where_it_pays(
    implementation, shape, stride, padding, dilation, takes_winograd, monkeypatch
):
    """Each condition of _winograd_pays on small arrays (the thresholds lowered), through
    every kernel implementation (the CUDA C in the emulation), and equal to the
    specification either way."""
    monkeypatch.setattr(conv_ops, "WINOGRAD_MIN_CHANNELS", 4)
    monkeypatch.setattr(conv_ops, "WINOGRAD_MIN_TILES", 8)
    monkeypatch.setattr(conv_ops, "WINOGRAD_MIN_CHANNEL_TILES", 64)
    N, C, H, W = shape
    case = ConvCase(N, C, H, W, 5, 3, 3, stride, stride, padding, padding, dilation, dilation, 1, 0, 0)
    calls = spy_on_winograd(monkeypatch)
    x, w, _ = operands(case, 3, "contiguous")
    with backend.use_cpu_kernels(implementation):
        y = conv_ops.conv_forward(x, w, geometry_of(case))
    assert calls == ([shape] if takes_winograd else [])
    np.testing.assert_allclose(y, spec_forward(x, w, case), rtol=1e-10, atol=1e-12)


def test_winograd_chunks_run_side_by_side(monkeypatch, threads):
    """Several batch chunks on two threads give what one thread gives (each output
    sample is computed within one chunk: the results are equal, not only close)."""
    case = ConvCase(5, 8, 9, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0)
    x, w, _ = operands(case, 4, "contiguous", np.float32)
    per_sample = x.itemsize * 16 * (case.C + case.K) * 5 * 5  # V and M: 5x5 tiles
    monkeypatch.setattr(conv_ops, "CPU_CHUNK_BYTES", 2 * per_sample)  # 3 chunks
    threads(1)
    one = conv_ops._forward_by_winograd(x, w, geometry_of(case))
    threads(2)
    two = conv_ops._forward_by_winograd(x, w, geometry_of(case))
    np.testing.assert_array_equal(one, two)
    x64, w64, _ = operands(case, 4, "contiguous")
    np.testing.assert_allclose(two, spec_forward(x64, w64, case), rtol=1e-4, atol=1e-5)
