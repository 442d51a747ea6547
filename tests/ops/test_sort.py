"""sort, argsort, topk: values and indices against NumPy's stable sort on drawn shapes
and dims (distinct values, so the order is unique), gradients in float64."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor, shapes


def _case(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    values = data.draw(arrays(shape, distinct=True), label="values")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    return values, dim


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_sort_and_argsort(device, data):
    values, dim = _case(data)
    descending = data.draw(st.booleans(), label="descending")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    order = np.argsort(-values if descending else values, axis=dim, kind="stable")
    result = x.sort(dim, descending=descending)
    np.testing.assert_array_equal(result.indices.numpy(), order)
    np.testing.assert_array_equal(result.values.numpy(), np.take_along_axis(values, order, dim))
    np.testing.assert_array_equal(mt.argsort(x, dim, descending).numpy(), order)
    check_backward(lambda t: mt.sort(t, dim, descending).values, [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_topk(device, data):
    values, dim = _case(data)
    k = data.draw(st.integers(0, values.shape[dim]), label="k")
    largest = data.draw(st.booleans(), label="largest")
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    order = np.take(np.argsort(-values if largest else values, axis=dim), np.arange(k), axis=dim)
    result = mt.topk(x, k, dim, largest=largest)
    np.testing.assert_array_equal(result.indices.numpy(), order)
    np.testing.assert_array_equal(result.values.numpy(), np.take_along_axis(values, order, dim))
    if k:
        check_backward(lambda t: t.topk(k, dim, largest).values, [x])


def test_ties_keep_their_order_and_errors():
    x = mt.tensor([[2.0, 1.0, 2.0, 1.0]])
    assert x.sort().indices.tolist() == [[1, 3, 0, 2]]
    assert x.sort(descending=True).indices.tolist() == [[0, 2, 1, 3]]
    assert x.topk(2).indices.tolist() == [[0, 2]]
    assert mt.tensor([3, 1, 2]).sort().values.tolist() == [1, 2, 3]
    assert mt.tensor([True, False]).sort(descending=True).values.tolist() == [True, False]
    values, indices = mt.tensor(4.0).sort()
    assert values.item() == 4.0 and indices.item() == 0
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(5)
    with pytest.raises(TypeError, match="Tensor"):
        mt.sort([1, 2])
