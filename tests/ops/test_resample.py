"""interpolate: "nearest", "bilinear" and "bicubic" (align_corners True/False), by size
or by scale_factor (with and without recompute_scale_factor).

Forward values: hand-worked rows, and two properties that hold for any geometry:
nearest copies the pixel its source index names (checked on an arange input, whose
values ARE their positions), and bilinear reproduces a bilinear function of the pixel
position exactly, up to the clamping at the border (so a ramp reveals every source
position). Gradients: finite differences in float64 on contiguous and strided
inputs, also through the emulated CUDA kernels and the NumPy reference.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES, assert_close
from tests.pool_strategies import batch_and_channels
from tests.strategies import arrays, layouts, make_tensor

F = mt.nn.functional
FACTORS = [0.4, 0.5, 2 / 3, 1.0, 1.1, 1.5, 1.7, 2.0, 2.1, 2.5, 3.0]


@st.composite
def resize_case(draw):
    """(H, W) and the keyword arguments of one call: a size, or a scale factor (a number
    or a pair) with recompute_scale_factor None, False or True."""
    H, W = draw(st.integers(1, 6), label="H"), draw(st.integers(1, 6), label="W")
    if draw(st.booleans(), label="by size"):
        size = (draw(st.integers(1, 10), label="OH"), draw(st.integers(1, 10), label="OW"))
        return (H, W), {"size": size}
    factors = (draw(st.sampled_from(FACTORS), label="factor h"), draw(st.sampled_from(FACTORS), label="factor w"))
    assume(math.floor(H * factors[0]) >= 1 and math.floor(W * factors[1]) >= 1)
    factor = factors[0] if factors[0] == factors[1] and draw(st.booleans(), label="one number") else factors
    recompute = draw(st.sampled_from([None, False, True]), label="recompute_scale_factor")
    return (H, W), {"scale_factor": factor, "recompute_scale_factor": recompute}


def expected_sizes_and_steps(H, W, kwargs, align_corners):
    """The output size and the source step per output pixel, from PyTorch's docs."""
    if "size" in kwargs:
        sizes, factors = kwargs["size"], (None, None)
    else:
        factor = kwargs["scale_factor"]
        factors = (factor, factor) if isinstance(factor, float) else factor
        sizes = (math.floor(H * factors[0]), math.floor(W * factors[1]))
        if kwargs["recompute_scale_factor"]:
            factors = (None, None)
    steps = []
    for size, out_size, factor in zip((H, W), sizes, factors):
        if align_corners:
            steps.append((size - 1) / (out_size - 1) if out_size > 1 else 0.0)
        else:
            steps.append(1 / factor if factor is not None else size / out_size)
    return sizes, steps


def nearest_sources(size, out_size, step):
    """floor(o * step) in float32, clamped; PyTorch copies when out_size == size and
    halves when out_size == 2 * size."""
    if out_size == size:
        return np.arange(out_size)
    if out_size == 2 * size:
        return np.arange(out_size) // 2
    products = np.arange(out_size, dtype=np.float32) * np.float32(step)
    return np.minimum(np.floor(products).astype(np.int64), size - 1)


def bilinear_positions(size, out_size, step, align_corners):
    """The real source position of every output pixel, clamped to [0, size - 1]."""
    if out_size == size:
        return np.arange(out_size, dtype=np.float64)
    o = np.arange(out_size, dtype=np.float64)
    position = step * o if align_corners else step * (o + 0.5) - 0.5
    return np.clip(position, 0, size - 1)


# ------------------------------------------------------------------ nearest
@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_nearest_copies_the_pixel_at_its_source_index(device, data):
    (H, W), kwargs = data.draw(resize_case())
    N, C = data.draw(batch_and_channels(), label="N, C")
    positions = np.arange(N * C * H * W, dtype=np.float64).reshape(N, C, H, W)
    x = make_tensor(positions, device, data.draw(layouts(), label="layout"))
    out = F.interpolate(x, mode="nearest", **kwargs)

    (OH, OW), (step_h, step_w) = expected_sizes_and_steps(H, W, kwargs, align_corners=False)
    rows, cols = nearest_sources(H, OH, step_h), nearest_sources(W, OW, step_w)
    np.testing.assert_array_equal(out.numpy(), positions[:, :, rows[:, None], cols[None, :]])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_nearest_gradients(device, data):
    (H, W), kwargs = data.draw(resize_case())
    N, C = data.draw(batch_and_channels(), label="N, C")
    x = make_tensor(data.draw(arrays((N, C, H, W)), label="values"), device, data.draw(layouts(), label="layout"))
    check_backward(lambda t: F.interpolate(t, mode="nearest", **kwargs), [x])


def test_nearest_by_hand():
    x = mt.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(
        F.interpolate(x, scale_factor=2).numpy()[0, 0],
        [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]],
    )
    row = mt.tensor(np.arange(5.0).reshape(1, 1, 1, 5))
    np.testing.assert_array_equal(F.interpolate(row, size=(1, 2)).numpy().ravel(), [0, 2])  # step 2.5
    np.testing.assert_array_equal(F.interpolate(row[..., :2], size=(1, 3)).numpy().ravel(), [0, 0, 1])
    # scale_factor 1.7 on 4 pixels: 6 outputs. The given factor steps by 1 / 1.7;
    # recomputing it steps by 4 / 6.
    ramp = row[..., :4]
    np.testing.assert_array_equal(
        F.interpolate(ramp, scale_factor=(1, 1.7)).numpy().ravel(), [0, 0, 1, 1, 2, 2]
    )
    np.testing.assert_array_equal(
        F.interpolate(ramp, scale_factor=(1, 1.7), recompute_scale_factor=True).numpy().ravel(),
        [0, 0, 1, 2, 2, 3],
    )


# ----------------------------------------------------------------- bilinear
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("align_corners", [False, True])
@given(data=st.data())
def test_bilinear_reproduces_bilinear_functions(device, align_corners, data):
    """f(h, w) = a*h + b*w + d*h*w + e sampled on the grid is interpolated exactly:
    out = f(clamped source row, clamped source column)."""
    (H, W), kwargs = data.draw(resize_case())
    a, b, d, e = data.draw(st.tuples(*[st.floats(-2, 2)] * 4), label="coefficients")
    h, w = np.meshgrid(np.arange(H, dtype=np.float64), np.arange(W, dtype=np.float64), indexing="ij")
    values = np.broadcast_to(a * h + b * w + d * h * w + e, (2, 1, H, W))
    x = make_tensor(np.ascontiguousarray(values), device, data.draw(layouts(), label="layout"))
    out = F.interpolate(x, mode="bilinear", align_corners=align_corners, **kwargs)

    (OH, OW), (step_h, step_w) = expected_sizes_and_steps(H, W, kwargs, align_corners)
    rows = bilinear_positions(H, OH, step_h, align_corners)[:, None]
    cols = bilinear_positions(W, OW, step_w, align_corners)[None, :]
    expected = a * rows + b * cols + d * rows * cols + e
    assert out.shape == (2, 1, OH, OW)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(expected, out.shape), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("align_corners", [False, True])
@given(data=st.data())
def test_bilinear_gradients(device, align_corners, data):
    (H, W), kwargs = data.draw(resize_case())
    N, C = data.draw(batch_and_channels(), label="N, C")
    x = make_tensor(data.draw(arrays((N, C, H, W)), label="values"), device, data.draw(layouts(), label="layout"))
    check_backward(lambda t: F.interpolate(t, mode="bilinear", align_corners=align_corners, **kwargs), [x])


@pytest.mark.parametrize("kernels", ["cuda", "reference"])
@settings(max_examples=8)
@given(data=st.data())
def test_gradients_through_other_kernels(kernels, data):
    (H, W), kwargs = data.draw(resize_case())
    mode = data.draw(st.sampled_from(["nearest", "bilinear"]), label="mode")
    align_corners = None if mode == "nearest" else data.draw(st.booleans(), label="align_corners")
    values = data.draw(arrays((1, 2, H, W)), label="values")
    x = make_tensor(values, layout=data.draw(layouts(), label="layout"))
    expected = F.interpolate(x, mode=mode, align_corners=align_corners, **kwargs)  # Numba kernels
    with backend.use_cpu_kernels(kernels):
        assert_close(F.interpolate(x, mode=mode, align_corners=align_corners, **kwargs), expected)
        check_backward(lambda t: F.interpolate(t, mode=mode, align_corners=align_corners, **kwargs), [x])


def test_bilinear_by_hand():
    row = mt.tensor([[[[2.0, 6.0]]]])
    # align_corners=True: the end pixels line up, the middle one is the average.
    np.testing.assert_allclose(
        F.interpolate(row, size=(1, 3), mode="bilinear", align_corners=True).numpy().ravel(), [2, 4, 6]
    )
    # align_corners=False, 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (past
    # the last pixel: that pixel).
    np.testing.assert_allclose(
        F.interpolate(row, size=(1, 4), mode="bilinear").numpy().ravel(), [2, 3, 5, 6]
    )
    # A ramp 0 1 2 scaled by 1.5 to 4 pixels: the given factor steps by 2/3 (sources
    # 0, 0.5, 7/6, 11/6); recomputed it steps by 3/4 (0, 0.625, 1.375, 2.125 -> 2).
    ramp = mt.tensor([[[[0.0, 1.0, 2.0]]]])
    np.testing.assert_allclose(
        F.interpolate(ramp, scale_factor=(1, 1.5), mode="bilinear").numpy().ravel(),
        [0, 0.5, 7 / 6, 11 / 6],
    )
    np.testing.assert_allclose(
        F.interpolate(ramp, scale_factor=(1, 1.5), mode="bilinear", recompute_scale_factor=True).numpy().ravel(),
        [0, 0.625, 1.375, 2],
    )
    # One output pixel: align_corners reads the first pixel, otherwise the centre.
    assert F.interpolate(ramp, size=(1, 1), mode="bilinear", align_corners=True).item() == 0.0
    assert F.interpolate(ramp, size=(1, 1), mode="bilinear").item() == 1.0


def test_bilinear_upsampling_keeps_float32():
    x = mt.randn(1, 2, 3, 3)
    assert F.interpolate(x, scale_factor=2, mode="bilinear").dtype == mt.float32


# ------------------------------------------------------------------- errors
def test_interpolate_rejects_bad_arguments():
    x = mt.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners can only be set with mode='bilinear' or 'bicubic'"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(x, size=3, align_corners=False)
    with pytest.raises(TypeError, match="align_corners must be None or a bool"):
        F.interpolate(x, size=3, mode="bilinear", align_corners=1)
    with pytest.raises(ValueError, match="mode must be one of"):
        F.interpolate(x, size=3, mode="area")
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=3, recompute_scale_factor=True)
    with pytest.raises(ValueError, match="size must be an int or a pair"):
        F.interpolate(x, size=(2, 3, 4))
    with pytest.raises(ValueError, match="scale_factor must be a number or a pair"):
        F.interpolate(x, scale_factor=(2, 3, 4))
    with pytest.raises(ValueError, match="scale_factor must be positive"):
        F.interpolate(x, scale_factor=-1.0)
    with pytest.raises(ValueError, match="output size must be positive"):
        F.interpolate(x, size=0)
    with pytest.raises(ValueError, match="output size must be positive"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(ValueError, match=r"input must be 4-D \(N, C, H, W\)"):
        F.interpolate(mt.randn(2, 4, 4), size=3, mode="bilinear")
    with pytest.raises(TypeError, match="float32 or float64"):
        F.interpolate(mt.zeros(1, 1, 2, 2, dtype=mt.int64), size=3)
    with pytest.raises(ValueError, match="antialias must be False"):
        F.interpolate(x, size=3, mode="bilinear", antialias=True)


def bicubic_by_definition(x, sizes, steps, align_corners):
    """PyTorch's bicubic interpolation written out element by element (A = -0.75; the
    four taps clamped into the image; no clamp of the source position at 0)."""
    A = -0.75

    def taps(o, size, step):
        real = step * o if align_corners else step * (o + 0.5) - 0.5
        first = min(math.floor(real), size - 1)
        t = min(max(real - first, 0.0), 1.0)
        near = lambda d: ((A + 2) * d - (A + 3)) * d * d + 1  # noqa: E731
        far = lambda d: ((A * d - 5 * A) * d + 8 * A) * d - 4 * A  # noqa: E731
        weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
        return [(min(max(first - 1 + k, 0), size - 1), w) for k, w in enumerate(weights)]

    H, W = x.shape[2:]
    out = np.zeros(x.shape[:2] + tuple(sizes))
    for oh in range(sizes[0]):
        for ow in range(sizes[1]):
            for ih, wh in taps(oh, H, steps[0]):
                for iw, ww in taps(ow, W, steps[1]):
                    out[:, :, oh, ow] += wh * ww * x[:, :, ih, iw]
    return out


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("align_corners", [False, True])
@settings(max_examples=15)
@given(data=st.data())
def test_bicubic_values_and_gradients(device, align_corners, data):
    (H, W), kwargs = data.draw(resize_case(), label="case")
    N, C = data.draw(batch_and_channels(), label="N, C")
    values = data.draw(arrays((N, C, H, W)), label="values")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    sizes, steps = expected_sizes_and_steps(H, W, kwargs, align_corners)
    out = F.interpolate(x, mode="bicubic", align_corners=align_corners, **kwargs)
    np.testing.assert_allclose(out.numpy(), bicubic_by_definition(values, sizes, steps, align_corners), rtol=1e-12, atol=1e-12)
    check_backward(lambda t: F.interpolate(t, mode="bicubic", align_corners=align_corners, **kwargs), [x])


def test_bicubic_through_the_cuda_kernels_and_module():
    x = mt.tensor(np.random.default_rng(3).standard_normal((1, 2, 4, 5)))
    with backend.use_cpu_kernels("cuda"):
        check_backward(lambda t: F.interpolate(t, scale_factor=1.1, mode="bicubic", align_corners=False), [x])
        check_backward(lambda t: F.interpolate(t, size=(7, 3), mode="bicubic", align_corners=True), [x])
    layer = mt.nn.Upsample(scale_factor=2, mode="bicubic", align_corners=False)
    assert layer(x).shape == (1, 2, 8, 10)
