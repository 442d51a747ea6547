"""max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d, max_unpool2d.

Forward values are checked against naive loops written here from PyTorch's
documentation (not from the kernels); gradients against finite differences in float64
on inputs without ties (distinct, well-separated values), on contiguous and strided
inputs; a few gradient checks run through the emulated CUDA kernels and the NumPy
reference (backend.use_cpu_kernels). Hand-made cases pin down the ceil_mode divisor,
the tie rule and PyTorch's index layout; every bad argument raises before any kernel.
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
from tests.pool_strategies import batch_and_channels, pool_inputs, pool_windows
from tests.strategies import arrays, layouts, make_tensor

F = mt.nn.functional


# --------------------------------------------------------- naive definitions
def naive_output_size(size, K, S, P, D, ceil_mode):
    """PyTorch's documented formula: floor (or ceil) of
    (size + 2P - D(K-1) - 1) / S + 1, and with ceil_mode a window that would start in
    the right padding is dropped."""
    value = (size + 2 * P - D * (K - 1) - 1) / S + 1
    out = math.ceil(value) if ceil_mode else math.floor(value)
    if ceil_mode and (out - 1) * S - P >= size:
        out -= 1
    return out


def naive_taps(oh, ow, geometry):
    """The (ih, iw) of every tap of window (oh, ow), in scan order."""
    (KH, KW), (SH, SW), (PH, PW), (DH, DW) = (
        geometry["kernel"], geometry["stride"], geometry["padding"], geometry["dilation"],
    )
    return [(oh * SH - PH + kh * DH, ow * SW - PW + kw * DW) for kh in range(KH) for kw in range(KW)]


def naive_sizes(geometry):
    return tuple(
        naive_output_size(size, K, S, P, D, geometry["ceil_mode"])
        for size, K, S, P, D in zip(
            geometry["size"], geometry["kernel"], geometry["stride"], geometry["padding"], geometry["dilation"]
        )
    )


def naive_max_pool(x, geometry):
    """Max over the in-bounds taps, the first maximum's ih*W + iw; -inf and -1 for a
    window that covers no input pixel."""
    N, C, H, W = x.shape
    OH, OW = naive_sizes(geometry)
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    indices = np.empty((N, C, OH, OW), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                for ow in range(OW):
                    best, best_index = -np.inf, -1
                    for ih, iw in naive_taps(oh, ow, geometry):
                        if 0 <= ih < H and 0 <= iw < W and (best_index < 0 or x[n, c, ih, iw] > best):
                            best, best_index = x[n, c, ih, iw], ih * W + iw
                    out[n, c, oh, ow], indices[n, c, oh, ow] = best, best_index
    return out, indices


def naive_avg_pool(x, geometry, count_include_pad, divisor_override):
    """Sum of the in-bounds taps divided by: divisor_override; or the number of taps
    inside the PADDED image (count_include_pad: padding counts, the ceil_mode overhang
    past the padding does not); or the number of taps inside the image."""
    N, C, H, W = x.shape
    (PH, PW) = geometry["padding"]
    OH, OW = naive_sizes(geometry)
    out = np.empty((N, C, OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            total = np.zeros((N, C))
            in_image = in_padded_image = 0
            for ih, iw in naive_taps(oh, ow, geometry):
                if -PH <= ih < H + PH and -PW <= iw < W + PW:
                    in_padded_image += 1
                if 0 <= ih < H and 0 <= iw < W:
                    in_image += 1
                    total += x[:, :, ih, iw]
            divisor = divisor_override or (in_padded_image if count_include_pad else in_image)
            out[:, :, oh, ow] = total / divisor
    return out


def naive_adaptive(x, OH, OW, reduce):
    """Bins [floor(o*H/OH), ceil((o+1)*H/OH)), reduced with ``reduce`` over (H, W)."""
    N, C, H, W = x.shape
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    for oh in range(OH):
        rows = slice(math.floor(oh * H / OH), math.ceil((oh + 1) * H / OH))
        for ow in range(OW):
            cols = slice(math.floor(ow * W / OW), math.ceil((ow + 1) * W / OW))
            out[:, :, oh, ow] = reduce(x[:, :, rows, cols], axis=(2, 3))
    return out


def _kwargs(geometry, dilation=True):
    kwargs = {
        "kernel_size": geometry["kernel"],
        "stride": geometry["stride"],
        "padding": geometry["padding"],
        "ceil_mode": geometry["ceil_mode"],
    }
    if dilation:
        kwargs["dilation"] = geometry["dilation"]
    return kwargs


# ---------------------------------------------------------------- max_pool2d
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_max_pool2d_matches_naive_loop_and_gradients(device, dtype, data):
    geometry = data.draw(pool_windows(), label="geometry")
    N, C = data.draw(batch_and_channels(), label="N, C")
    values = data.draw(pool_inputs((N, C, *geometry["size"]), dtype))
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    kwargs = _kwargs(geometry)

    out, indices = F.max_pool2d(x, return_indices=True, **kwargs)
    expected, expected_indices = naive_max_pool(values, geometry)
    assert out.dtype == dtype and indices.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(indices.numpy(), expected_indices)
    np.testing.assert_array_equal(F.max_pool2d(x, **kwargs).numpy(), expected)

    ties = len(np.unique(values)) < values.size
    if dtype == np.float64 and not ties and np.isfinite(expected).all():
        check_backward(lambda t: F.max_pool2d(t, **kwargs), [x])


@pytest.mark.parametrize("kernels", ["cuda", "reference"])
@settings(max_examples=8)
@given(data=st.data())
def test_max_pool2d_gradients_through_other_kernels(kernels, data):
    geometry = data.draw(pool_windows(max_side=6), label="geometry")
    values = data.draw(pool_inputs((1, 2, *geometry["size"]), ties=False))
    x = make_tensor(values, layout=data.draw(layouts(), label="layout"))
    kwargs = _kwargs(geometry)
    assume(np.isfinite(naive_max_pool(values, geometry)[0]).all())
    with backend.use_cpu_kernels(kernels):
        np.testing.assert_array_equal(F.max_pool2d(x, **kwargs).numpy(), naive_max_pool(values, geometry)[0])
        check_backward(lambda t: F.max_pool2d(t, **kwargs), [x])


def test_max_pool2d_tie_rule_and_index_layout_by_hand():
    """First maximum in row-major window order; indices are ih*W + iw per plane."""
    x = mt.tensor([[[[1.0, 3, 3, 0], [2, 3, 1, 3], [0, 0, 5, 5], [0, 5, 0, 5]]]])
    out, indices = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[3, 3], [5, 5]])
    np.testing.assert_array_equal(indices.numpy()[0, 0], [[1, 2], [13, 10]])
    # Overlapping 3x3 / stride 1 with padding 1: padding is -inf, never a maximum.
    _, indices = F.max_pool2d(x, 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(
        indices.numpy()[0, 0], [[1, 1, 1, 2], [1, 10, 10, 10], [13, 10, 10, 10], [13, 10, 10, 10]]
    )


def test_max_pool2d_alexnet_overlap_routes_gradients_to_shared_maxima():
    """3x3 / stride 2 (AlexNet): the centre pixel of a 5x5 plane is the maximum of all
    four windows and receives the sum of their gradients."""
    values = np.zeros((1, 1, 5, 5))
    values[0, 0, 2, 2] = 1.0
    x = mt.tensor(values, requires_grad=True)
    out = F.max_pool2d(x, 3, 2)
    out.backward(mt.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=mt.float64))
    expected = np.zeros((5, 5))
    expected[2, 2] = 10.0
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_max_pool2d_ceil_mode_by_hand():
    """H = W = 6, 3x3 / stride 2 / padding 1: floor gives 3 windows per axis; ceil_mode
    adds a 4th that starts at 5 (inside the input) and overhangs the padding."""
    x = mt.tensor(np.arange(36.0).reshape(1, 1, 6, 6))
    assert F.max_pool2d(x, 3, 2, 1).shape == (1, 1, 3, 3)
    out = F.max_pool2d(x, 3, 2, 1, ceil_mode=True)
    np.testing.assert_array_equal(out.numpy()[0, 0, :, 3], [11, 23, 35, 35])
    # H = 5, kernel 2, stride 2, no padding: a 3rd window would start at row 4 and
    # overhang by one row; it starts inside the input, so ceil_mode keeps it.
    x = mt.tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    np.testing.assert_array_equal(F.max_pool2d(x, 2, ceil_mode=True).numpy()[0, 0, 2], [21, 23, 24])


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_unbatched_input_is_one_image(pool):
    values = np.random.default_rng(0).permutation(60).reshape(3, 4, 5).astype(np.float64)
    fn = F.max_pool2d if pool == "max" else F.avg_pool2d
    x3 = mt.tensor(values, requires_grad=True)
    out = fn(x3, 3, 2, 1)
    assert out.shape == (3, 2, 3)
    np.testing.assert_array_equal(out.detach().numpy(), fn(mt.tensor(values[None]), 3, 2, 1).detach().numpy()[0])
    check_backward(lambda t: fn(t, 3, 2, 1), [x3])


def test_empty_batch_gives_an_empty_output():
    x = mt.zeros(0, 2, 4, 4)
    assert F.max_pool2d(x, 2).shape == (0, 2, 2, 2)
    assert F.avg_pool2d(x, 2).shape == (0, 2, 2, 2)


# ---------------------------------------------------------------- avg_pool2d
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_avg_pool2d_matches_naive_loop_and_gradients(device, dtype, data):
    geometry = data.draw(pool_windows(dilation=False), label="geometry")
    N, C = data.draw(batch_and_channels(), label="N, C")
    values = data.draw(arrays((N, C, *geometry["size"]), dtype=dtype), label="values")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    count_include_pad = data.draw(st.booleans(), label="count_include_pad")
    divisor_override = data.draw(st.sampled_from([None, None, 1, 4]), label="divisor_override")
    kwargs = dict(_kwargs(geometry, dilation=False), count_include_pad=count_include_pad,
                  divisor_override=divisor_override)

    out = F.avg_pool2d(x, **kwargs)
    assert out.dtype == dtype
    assert_close(out, naive_avg_pool(values, geometry, count_include_pad, divisor_override), dtype)
    if dtype == np.float64:
        check_backward(lambda t: F.avg_pool2d(t, **kwargs), [x])


@pytest.mark.parametrize("kernels", ["cuda", "reference"])
@settings(max_examples=8)
@given(data=st.data())
def test_avg_pool2d_gradients_through_other_kernels(kernels, data):
    geometry = data.draw(pool_windows(dilation=False, max_side=6), label="geometry")
    values = data.draw(arrays((1, 2, *geometry["size"])), label="values")
    x = make_tensor(values, layout=data.draw(layouts(), label="layout"))
    count_include_pad = data.draw(st.booleans(), label="count_include_pad")
    kwargs = dict(_kwargs(geometry, dilation=False), count_include_pad=count_include_pad)
    with backend.use_cpu_kernels(kernels):
        assert_close(F.avg_pool2d(x, **kwargs), naive_avg_pool(values, geometry, count_include_pad, None))
        check_backward(lambda t: F.avg_pool2d(t, **kwargs), [x])


def test_avg_pool2d_divisors_by_hand():
    """A row 1..6, kernel (1, 3), stride (1, 2), padding (0, 1), ceil_mode: windows
    [pad 1 2], [2 3 4], [4 5 6], [6 pad overhang]. The last window's overhang past the
    padding never counts; its padding column counts only with count_include_pad."""
    x = mt.tensor(np.arange(1.0, 7.0).reshape(1, 1, 1, 6))
    kwargs = {"kernel_size": (1, 3), "stride": (1, 2), "padding": (0, 1), "ceil_mode": True}
    np.testing.assert_allclose(F.avg_pool2d(x, **kwargs).numpy()[0, 0, 0], [1.0, 3.0, 5.0, 3.0])
    np.testing.assert_allclose(
        F.avg_pool2d(x, count_include_pad=False, **kwargs).numpy()[0, 0, 0], [1.5, 3.0, 5.0, 6.0]
    )
    np.testing.assert_allclose(
        F.avg_pool2d(x, divisor_override=2, **kwargs).numpy()[0, 0, 0], [1.5, 4.5, 7.5, 3.0]
    )


# ----------------------------------------------------------- adaptive pooling
@st.composite
def adaptive_case(draw):
    N, C = draw(batch_and_channels(), label="N, C")
    H, W = draw(st.integers(1, 8), label="H"), draw(st.integers(1, 8), label="W")
    OH, OW = draw(st.integers(1, 9), label="OH"), draw(st.integers(1, 9), label="OW")
    return N, C, H, W, OH, OW


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_adaptive_avg_pool2d_matches_naive_loop_and_gradients(device, data):
    N, C, H, W, OH, OW = data.draw(adaptive_case())
    values = data.draw(arrays((N, C, H, W)), label="values")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    out = F.adaptive_avg_pool2d(x, (OH, OW))
    assert_close(out, naive_adaptive(values, OH, OW, np.mean))
    check_backward(lambda t: F.adaptive_avg_pool2d(t, (OH, OW)), [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_adaptive_max_pool2d_matches_naive_loop_and_gradients(device, data):
    N, C, H, W, OH, OW = data.draw(adaptive_case())
    values = data.draw(pool_inputs((N, C, H, W), ties=False))
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    out, indices = F.adaptive_max_pool2d(x, (OH, OW), return_indices=True)
    np.testing.assert_array_equal(out.numpy(), naive_adaptive(values, OH, OW, np.max))
    # The index points at the maximum inside its plane.
    planes = values.reshape(N, C, H * W)
    np.testing.assert_array_equal(
        np.take_along_axis(planes, indices.numpy().reshape(N, C, -1), axis=2).reshape(out.shape), out.numpy()
    )
    check_backward(lambda t: F.adaptive_max_pool2d(t, (OH, OW)), [x])


@pytest.mark.parametrize("kernels", ["cuda", "reference"])
def test_adaptive_pool_gradients_through_other_kernels(kernels):
    values = np.random.default_rng(1).permutation(2 * 5 * 7).reshape(1, 2, 5, 7) / 10.0
    x = mt.tensor(values)
    with backend.use_cpu_kernels(kernels):
        check_backward(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), [x])
        check_backward(lambda t: F.adaptive_max_pool2d(t, (2, 3)), [x])


def test_global_average_pooling_is_the_mean_over_h_and_w():
    values = np.random.default_rng(2).standard_normal((2, 3, 5, 4))
    x = mt.tensor(values)
    out = F.adaptive_avg_pool2d(x, 1)
    assert out.shape == (2, 3, 1, 1)
    assert_close(out, values.mean(axis=(2, 3), keepdims=True))
    assert_close(F.adaptive_avg_pool2d(x, (1, 1)), values.mean(axis=(2, 3), keepdims=True))
    check_backward(lambda t: F.adaptive_avg_pool2d(t, 1), [x])


def test_adaptive_output_size_none_keeps_the_input_size():
    values = np.random.default_rng(3).standard_normal((1, 2, 5, 6))
    x = mt.tensor(values)
    assert F.adaptive_avg_pool2d(x, (None, 3)).shape == (1, 2, 5, 3)
    assert F.adaptive_max_pool2d(x, (2, None)).shape == (1, 2, 2, 6)
    assert_close(F.adaptive_avg_pool2d(x, (None, 3)), naive_adaptive(values, 5, 3, np.mean))
    assert F.adaptive_avg_pool2d(x[0], 2).shape == (2, 2, 2)  # unbatched (C, H, W)


def test_adaptive_bins_overlap_by_hand():
    """H = 5 into 3 bins: rows [0, 2), [1, 4), [3, 5): bins overlap when 3 does not divide 5."""
    x = mt.tensor(np.arange(5.0).reshape(1, 1, 5, 1))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (3, 1)).numpy().ravel(), [0.5, 2.0, 3.5])
    np.testing.assert_array_equal(F.adaptive_max_pool2d(x, (3, 1)).numpy().ravel(), [1.0, 3.0, 4.0])


# --------------------------------------------------------------- max_unpool2d
@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_max_unpool2d_undoes_max_pool2d(device, data):
    """The switches: every maximum goes back where it came from, zeros elsewhere."""
    geometry = data.draw(pool_windows(dilation=False), label="geometry")
    N, C = data.draw(batch_and_channels(), label="N, C")
    H, W = geometry["size"]
    values = data.draw(pool_inputs((N, C, H, W), ties=False))
    x = make_tensor(values, device)
    kwargs = {"kernel_size": geometry["kernel"], "stride": geometry["stride"], "padding": geometry["padding"]}
    pooled, indices = F.max_pool2d(x, return_indices=True, ceil_mode=geometry["ceil_mode"], **kwargs)
    restored = F.max_unpool2d(pooled, indices, output_size=(H, W), **kwargs)

    is_switch = np.zeros((N, C, H * W), dtype=bool)
    np.put_along_axis(is_switch, indices.numpy().reshape(N, C, -1), True, axis=2)
    expected = np.where(is_switch.reshape(N, C, H, W), values, 0.0)
    np.testing.assert_array_equal(restored.numpy(), expected)


@pytest.mark.parametrize("kernels", ["cpu", "cuda", "reference"])
@settings(max_examples=10)
@given(data=st.data())
def test_max_unpool2d_gradient(kernels, data):
    """Gradient w.r.t. the input, with distinct indices (every input lands somewhere of
    its own, so the map is linear and finite differences see every entry)."""
    N, C = data.draw(batch_and_channels(), label="N, C")
    IH, IW = data.draw(st.integers(1, 3), label="IH"), data.draw(st.integers(1, 3), label="IW")
    values = data.draw(arrays((N, C, IH, IW)), label="values")
    layout = data.draw(layouts(), label="layout")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    OH, OW = 2 * IH, 2 * IW  # kernel 2: the default output size
    flat = np.stack([rng.permutation(OH * OW)[: IH * IW] for _ in range(N * C)])
    indices = mt.tensor(flat.reshape(N, C, IH, IW).astype(np.int64))
    x = make_tensor(values, layout=layout)
    with backend.use_cpu_kernels(kernels):
        out = F.max_unpool2d(x, indices, 2)
        assert out.shape == (N, C, OH, OW)
        np.testing.assert_array_equal(
            np.take_along_axis(out.numpy().reshape(N, C, -1), flat.reshape(N, C, -1), axis=2).reshape(values.shape),
            values,
        )
        assert np.count_nonzero(out.numpy()) == np.count_nonzero(values)
        check_backward(lambda t: F.max_unpool2d(t, indices, 2), [x])


def test_max_unpool2d_by_hand():
    x = mt.tensor([[[[1.0, 3, 3, 0], [2, 3, 1, 3], [0, 0, 5, 5], [0, 5, 0, 5]]]])
    pooled, indices = F.max_pool2d(x, 2, return_indices=True)
    restored = F.max_unpool2d(pooled, indices, 2)
    expected = [[0, 3, 3, 0], [0, 0, 0, 0], [0, 0, 5, 0], [0, 5, 0, 0]]
    np.testing.assert_array_equal(restored.numpy()[0, 0], expected)
    # output_size may be chosen within one stride of the default 4 (here 5 x 5).
    assert F.max_unpool2d(pooled, indices, 2, output_size=(5, 5)).shape == (1, 1, 5, 5)
    assert F.max_unpool2d(pooled, indices, 2, output_size=(1, 1, 5, 5)).shape == (1, 1, 5, 5)
    assert F.max_unpool2d(pooled[0], indices[0], 2).shape == (1, 4, 4)  # unbatched


# ------------------------------------------------------------------- errors
def test_pooling_rejects_bad_arguments():
    x = mt.randn(1, 2, 5, 5)
    for fn in (F.max_pool2d, F.avg_pool2d):
        with pytest.raises(ValueError, match="3-D .* or 4-D"):
            fn(mt.randn(5, 5), 2)
        with pytest.raises(TypeError, match="float32 or float64"):
            fn(mt.zeros(1, 1, 4, 4, dtype=mt.int64), 2)
        with pytest.raises(TypeError, match="input must be a Tensor"):
            fn(np.zeros((1, 1, 4, 4)), 2)
        with pytest.raises(ValueError, match="kernel_size must be positive"):
            fn(x, 0)
        with pytest.raises(ValueError, match="stride must be positive"):
            fn(x, 2, stride=(1, 0))
        with pytest.raises(ValueError, match=r"padding must be at most half of kernel_size, i.e. at most \(1, 1\)"):
            fn(x, 3, padding=2)
        with pytest.raises(ValueError, match="padding must be at most half"):
            fn(x, (2, 3), padding=(1, 2))  # 2 > 3 // 2
        with pytest.raises(ValueError, match="padding must be non-negative"):
            fn(x, 2, padding=-1)
        with pytest.raises(ValueError, match="output would be empty"):
            fn(x, 6)
        with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
            fn(x, (2, 2, 2))
        with pytest.raises(ValueError, match="non-zero channel and spatial"):
            fn(mt.zeros(1, 0, 4, 4), 2)
    with pytest.raises(ValueError, match="dilation must be positive"):
        F.max_pool2d(x, 2, dilation=0)
    with pytest.raises(ValueError, match="output would be empty"):
        F.max_pool2d(x, 3, dilation=3)  # the dilated window spans 7 > 5 rows
    with pytest.raises(ValueError, match="divisor_override must be None or a non-zero int"):
        F.avg_pool2d(x, 2, divisor_override=0)


def test_adaptive_pooling_rejects_bad_arguments():
    x = mt.randn(1, 2, 5, 5)
    for fn in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
        with pytest.raises(ValueError, match="output_size must be positive"):
            fn(x, 0)
        with pytest.raises(ValueError, match="output_size must be positive"):
            fn(x, (2, -1))
        with pytest.raises(TypeError, match="output_size must be an int or a pair"):
            fn(x, (2, 2, 2))
        with pytest.raises(TypeError, match="output_size must be an int or a pair"):
            fn(x, 1.5)
        with pytest.raises(ValueError, match="4-D"):
            fn(mt.randn(5, 5), 2)
        with pytest.raises(TypeError, match="float32 or float64"):
            fn(mt.zeros(1, 1, 4, 4, dtype=mt.int32), 2)


def test_max_unpool2d_rejects_bad_arguments():
    x = mt.randn(1, 1, 2, 2)
    indices = mt.tensor(np.array([[[[0, 3], [8, 15]]]], dtype=np.int64))
    with pytest.raises(TypeError, match="indices must be an int64 Tensor"):
        F.max_unpool2d(x, indices.to(mt.int32), 2)
    with pytest.raises(TypeError, match="indices must be an int64 Tensor"):
        F.max_unpool2d(x, np.zeros((1, 1, 2, 2), dtype=np.int64), 2)
    with pytest.raises(ValueError, match="indices must have the shape of input"):
        F.max_unpool2d(x, indices[:, :, :1], 2)
    with pytest.raises(ValueError, match=r"must lie in \[0, OH\*OW\) = \[0, 16\)"):
        F.max_unpool2d(x, indices + 1, 2)
    with pytest.raises(ValueError, match="must lie in"):
        F.max_unpool2d(x, indices - 1, 2)
    with pytest.raises(ValueError, match="strictly between 2 and 6"):
        F.max_unpool2d(x, indices, 2, output_size=(6, 4))
    with pytest.raises(ValueError, match="output_size must have 2"):
        F.max_unpool2d(x, indices, 2, output_size=(4, 4, 4))
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        F.max_unpool2d(x, indices, 0)
    with pytest.raises(ValueError, match="stride must be positive"):
        F.max_unpool2d(x, indices, 2, stride=0)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.max_unpool2d(indices, indices, 2)
