"""flip, roll, repeat, repeat_interleave, meshgrid, pixel_shuffle/unshuffle, unbind,
t(): forward against NumPy on drawn shapes, gradients in float64."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor, shapes

F = mt.nn.functional


def _tensor(data, device, min_dims=1, max_dims=4):
    shape = data.draw(shapes(min_dims=min_dims, max_dims=max_dims), label="shape")
    values = data.draw(arrays(shape), label="values")
    return values, make_tensor(values, device, data.draw(layouts(), label="layout"))


def _dims(data, ndim):
    return tuple(data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                                    unique_by=lambda d: d % ndim), label="dims"))


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_flip_and_roll(device, data):
    values, x = _tensor(data, device)
    dims = _dims(data, values.ndim)
    out = x.flip(dims)
    np.testing.assert_array_equal(out.numpy(), np.flip(values, dims))
    out.add_(1.0)  # a copy, as in PyTorch: the input keeps its values
    np.testing.assert_array_equal(x.numpy(), values)
    check_backward(lambda t: mt.flip(t, dims), [x])
    shifts = tuple(data.draw(st.integers(-5, 5)) for _ in dims)
    np.testing.assert_array_equal(x.roll(shifts, dims).numpy(), np.roll(values, shifts, dims))
    check_backward(lambda t: mt.roll(t, shifts, dims), [x])
    np.testing.assert_array_equal(mt.roll(x, 2).numpy(), np.roll(values, 2))
    check_backward(lambda t: t.roll(-3), [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_repeat_and_repeat_interleave(device, data):
    values, x = _tensor(data, device, max_dims=3)
    extra = data.draw(st.integers(0, 2), label="extra dims")
    sizes = tuple(data.draw(st.integers(1, 3)) for _ in range(values.ndim + extra))
    np.testing.assert_array_equal(x.repeat(*sizes).numpy(), np.tile(values, sizes))
    check_backward(lambda t: t.repeat(sizes), [x])
    dim = data.draw(st.integers(0, values.ndim - 1), label="dim")
    counts = data.draw(st.lists(st.integers(0, 3), min_size=values.shape[dim], max_size=values.shape[dim]))
    repeats = mt.tensor(counts, device=device)
    np.testing.assert_array_equal(x.repeat_interleave(repeats, dim).numpy(), np.repeat(values, counts, dim))
    if sum(counts):
        check_backward(lambda t: mt.repeat_interleave(t, repeats, dim), [x])
    np.testing.assert_array_equal(mt.repeat_interleave(x, 2).numpy(), np.repeat(values, 2))
    check_backward(lambda t: t.repeat_interleave(2, dim=dim), [x])


def test_repeat_interleave_of_counts_and_errors():
    assert mt.repeat_interleave(mt.tensor([2, 0, 1])).tolist() == [0, 0, 2]
    with pytest.raises(RuntimeError, match="negative"):
        mt.repeat_interleave(mt.ones(2), mt.tensor([1, -1]), 0)
    with pytest.raises(RuntimeError, match="smaller"):
        mt.ones(2, 2).repeat(2)


@pytest.mark.parametrize("device", DEVICES)
def test_meshgrid_follows_numpy(device):
    a, b, c = (np.arange(n, dtype=np.float64) + 1 for n in (2, 3, 4))
    tensors = [mt.tensor(v, device=device) for v in (a, b, c)]
    for indexing in ("ij", "xy"):
        for got, expected in zip(mt.meshgrid(*tensors, indexing=indexing), np.meshgrid(a, b, c, indexing=indexing)):
            np.testing.assert_array_equal(got.numpy(), expected)
    with pytest.warns(UserWarning, match="indexing"):
        mt.meshgrid(tensors[0], tensors[1])
    check_backward(lambda u, v: mt.meshgrid(u, v, indexing="xy"), tensors[:2])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_pixel_shuffle_round_trip(device, data):
    r = data.draw(st.integers(1, 3), label="r")
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)) * r * r,
             data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    values = data.draw(arrays(shape))
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    out = F.pixel_shuffle(x, r)
    N, C, H, W = shape
    expected = values.reshape(N, C // (r * r), r, r, H, W).transpose(0, 1, 4, 2, 5, 3)
    np.testing.assert_array_equal(out.numpy(), expected.reshape(N, C // (r * r), H * r, W * r))
    # the definition, one element: out[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]
    assert out.numpy()[0, 0, r - 1, 0] == values[0, (r - 1) * r, 0, 0]
    np.testing.assert_array_equal(F.pixel_unshuffle(out, r).numpy(), values)
    check_backward(lambda t: F.pixel_shuffle(t, r), [x])
    assert mt.nn.PixelShuffle(r)(x).shape == out.shape
    assert mt.nn.PixelUnshuffle(r)(out).shape == x.shape


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_unbind_and_t(device, data):
    values, x = _tensor(data, device)
    dim = data.draw(st.integers(-values.ndim, values.ndim - 1), label="dim")
    pieces = x.unbind(dim)
    assert len(pieces) == values.shape[dim]
    for i, piece in enumerate(pieces):
        np.testing.assert_array_equal(piece.numpy(), np.take(values, i, axis=dim))
    check_backward(lambda t: mt.unbind(t, dim), [x])
    if values.ndim <= 2:
        np.testing.assert_array_equal(x.t().numpy(), values.T)
    else:
        with pytest.raises(RuntimeError, match="<= 2 dimensions"):
            x.t()


def test_errors():
    x = mt.randn(2, 3)
    with pytest.raises(RuntimeError, match="duplicates"):
        x.flip(0, -2)
    with pytest.raises(RuntimeError, match="align"):
        x.roll((1, 2), 0)
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_shuffle(mt.randn(1, 3, 2, 2), 2)
    with pytest.raises(ValueError, match="indexing"):
        mt.meshgrid(x[0], x[1], indexing="yx")
