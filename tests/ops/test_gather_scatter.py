"""gather, scatter(_), scatter_add(_), index_select, masked_fill(_), nonzero: forward
against NumPy on drawn shapes and dims, float64 gradients, and index range checks where
the indices are used (forward and backward)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor, shapes


@st.composite
def along_dim(draw, min_index_size=1):
    """(values, dim, index) with index of values' rank, no larger than it apart from dim
    (where it may be larger: positions repeat), entries in [0, size of dim)."""
    shape = draw(shapes(min_dims=1, max_dims=3), label="shape")
    values = draw(arrays(shape))
    dim = draw(st.integers(0, len(shape) - 1), label="dim")
    index_shape = tuple(
        draw(st.integers(min_index_size, 4)) if d == dim else draw(st.integers(1, size))
        for d, size in enumerate(shape)
    )
    index = draw(
        st.lists(st.integers(0, shape[dim] - 1), min_size=int(np.prod(index_shape)),
                 max_size=int(np.prod(index_shape))),
        label="index",
    )
    return values, dim, np.asarray(index, dtype=np.int64).reshape(index_shape)


def _numpy_key(index, dim):
    key = [np.arange(s).reshape([-1 if d == k else 1 for d in range(index.ndim)])
           for k, s in enumerate(index.shape)]
    key[dim] = index
    return tuple(key)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_gather(device, data):
    values, dim, index = data.draw(along_dim())
    layout = data.draw(layouts(), label="layout")
    x = make_tensor(values, device, layout)
    idx = mt.tensor(index, device=device)
    out = x.gather(dim, idx)
    np.testing.assert_array_equal(out.numpy(), np.take_along_axis(values[tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(index.shape))], index, dim))
    check_backward(lambda t: mt.gather(t, dim, idx), [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_scatter_and_scatter_add(device, data):
    values, dim, index = data.draw(along_dim())
    src_values = data.draw(arrays(index.shape), label="src")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    src = mt.tensor(src_values, device=device)
    idx = mt.tensor(index, device=device)

    expected_add = values.copy()
    np.add.at(expected_add, _numpy_key(index, dim), src_values)
    np.testing.assert_allclose(x.scatter_add(dim, idx, src).numpy(), expected_add, rtol=1e-12)
    check_backward(lambda t, s: mt.scatter_add(t, dim, idx, s), [x, src])

    # scatter: with repeated positions one write wins, so compare where positions are unique
    unique_index = np.unique(index.reshape(-1)).size == index.size
    out = x.scatter(dim, idx, src)
    expected = values.copy()
    expected[_numpy_key(index, dim)] = src_values
    if unique_index or index.shape[dim] == 1:
        np.testing.assert_array_equal(out.numpy(), expected)
        check_backward(lambda t, s: mt.scatter(t, dim, idx, s), [x, src])
    np.testing.assert_array_equal(x.scatter(dim, idx, value=2.5).numpy()[_numpy_key(index, dim)], 2.5)


@pytest.mark.parametrize("device", DEVICES)
def test_scatter_in_place_and_recorded(device):
    x = mt.zeros(2, 4, device=device)
    index = mt.tensor([[1, 3], [0, 2]], device=device)
    src = mt.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert x.scatter_(1, index, src) is x and x._version == 1
    np.testing.assert_array_equal(x.numpy(), [[0, 1, 0, 2], [3, 0, 4, 0]])
    x.scatter_add_(1, index, src)
    np.testing.assert_array_equal(x.numpy(), [[0, 2, 0, 4], [6, 0, 8, 0]])

    def fn(base, s):
        y = base * 1.0
        y.scatter_(1, index, s)
        y.scatter_add_(1, index, s * 2.0)
        return y

    check_backward(fn, [mt.randn(2, 4, dtype=mt.float64, device=device),
                        mt.randn(2, 2, dtype=mt.float64, device=device)])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_index_select(device, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    values = data.draw(arrays(shape))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    picks = data.draw(st.lists(st.integers(0, shape[dim] - 1), min_size=1, max_size=5), label="picks")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    idx = mt.tensor(picks, device=device)
    np.testing.assert_array_equal(x.index_select(dim, idx).numpy(), np.take(values, picks, axis=dim))
    check_backward(lambda t: mt.index_select(t, dim, idx), [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_masked_fill(device, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    values = data.draw(arrays(shape))
    mask_values = data.draw(st.lists(st.booleans(), min_size=shape[-1], max_size=shape[-1]), label="mask")
    mask = mt.tensor(np.asarray(mask_values), device=device)  # broadcast along the last dim
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    np.testing.assert_array_equal(x.masked_fill(mask, -7.0).numpy(), np.where(mask_values, -7.0, values))
    value = mt.tensor(0.5, dtype=mt.float64, device=device)
    check_backward(lambda t, v: t.masked_fill(mask, v), [x, value])

    def in_place(t, v):
        y = t * 1.0
        return y.masked_fill_(mask, v)

    check_backward(in_place, [x, value])


def test_nonzero():
    x = mt.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    assert x.nonzero().tolist() == [[0, 1], [1, 0], [1, 2]]
    rows, cols = mt.nonzero(x, as_tuple=True)
    assert rows.tolist() == [0, 1, 1] and cols.tolist() == [1, 0, 2]
    assert mt.nonzero(mt.tensor(3.0)).shape == (1, 0)
    assert x.nonzero().dtype == mt.int64


@pytest.mark.parametrize("device", DEVICES)
def test_indices_out_of_range_raise_where_they_are_used(device):
    x = mt.randn(3, 4, device=device, requires_grad=True)
    bad = mt.tensor([[0, 4]], device=device)
    for call in (lambda: x.gather(1, bad), lambda: x.scatter_add(1, bad, mt.ones(1, 2, device=device)),
                 lambda: x.index_select(1, mt.tensor([-1], device=device))):
        with pytest.raises(IndexError, match="out of bounds"):
            call()
    # memory shared with NumPy changes without a version bump: backward checks again
    array = np.array([[0, 1]], dtype=np.int64)
    index = mt.from_numpy(array) if device == "cpu" else mt.tensor(array, device=device)
    out = x.gather(1, index)
    index.array[0, 1] = 99  # as NumPy code holding the array would
    with pytest.raises(IndexError, match="gather backward: index 99 is out of bounds"):
        out.sum().backward()


def test_bad_arguments():
    x = mt.randn(3, 4)
    with pytest.raises(TypeError, match="int64"):
        x.gather(1, mt.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(1, mt.tensor([0]))
    with pytest.raises(RuntimeError, match="no larger than"):
        x.gather(1, mt.zeros(4, 1, dtype=mt.int64))
    with pytest.raises(ValueError, match="multiply"):
        x.scatter(1, mt.zeros(1, 1, dtype=mt.int64), mt.ones(1, 1), reduce="multiply")
    with pytest.raises(TypeError, match="bool"):
        x.masked_fill(mt.tensor([1, 0, 1, 0]), 0.0)
    with pytest.raises(RuntimeError, match="broadcastable"):
        x.masked_fill(mt.tensor([True, False]), 0.0)
    with pytest.raises(IndexError, match="vector"):
        x.index_select(0, mt.zeros(1, 1, dtype=mt.int64))
