"""Indexing: ints, slices with steps (negative too), ellipsis, None, integer arrays
(with repeats: their gradients add up) and boolean masks."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor, shapes


@st.composite
def basic_keys(draw, shape):
    """A tuple of ints/slices (with steps)/None/Ellipsis valid for ``shape``."""
    parts, use_ellipsis = [], draw(st.booleans())
    dims = list(shape)
    if use_ellipsis and dims:
        dims = dims[: draw(st.integers(0, len(dims)))]
    for size in dims:
        kind = draw(st.sampled_from(["int", "slice", "full", "none"]))
        if kind == "int":
            parts.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-size, size)))
            stop = draw(st.one_of(st.none(), st.integers(-size, size)))
            step = draw(st.sampled_from([None, 1, 2, 3, -1, -2]))
            parts.append(slice(start, stop, step))
        elif kind == "none":
            parts.extend([None, slice(None)])
        else:
            parts.append(slice(None))
    if use_ellipsis:
        parts.append(Ellipsis)
    return tuple(parts)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_basic_indexing(device, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    values = data.draw(arrays(shape))
    key = data.draw(basic_keys(shape), label="key")
    layout = data.draw(layouts(), label="layout")
    x = make_tensor(values, device, layout)
    np.testing.assert_array_equal(x[key].numpy(), values[key])
    if values[key].size:
        check_backward(lambda t: t[key], [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_integer_array_indexing_accumulates_repeats(device, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    values = data.draw(arrays(shape))
    count = data.draw(st.integers(1, 6), label="count")
    index = np.asarray(data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=count, max_size=count)))
    as_tensor = data.draw(st.booleans(), label="index as Tensor")
    key = mt.tensor(index, device=device) if as_tensor else index.tolist()
    x = make_tensor(values, device)
    np.testing.assert_array_equal(x[key].numpy(), values[index])
    check_backward(lambda t: t[key], [x])
    # Repeated indices add their gradients.
    x.requires_grad = True
    x[key].sum().backward()
    expected = np.zeros(shape)
    np.add.at(expected, index, 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_boolean_mask_indexing(device, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    values = data.draw(arrays(shape))
    mask = data.draw(arrays(shape)) > 0
    x = make_tensor(values, device)
    m = mt.tensor(mask, device=device)
    np.testing.assert_array_equal(x[m].numpy(), values[mask])
    check_backward(lambda t: t[m], [x])


@pytest.mark.parametrize("device", DEVICES)
def test_mixed_advanced_and_basic_indexing(device):
    values = np.arange(24.0).reshape(2, 3, 4)
    x = mt.tensor(values, device=device)
    key = (slice(None), [0, 2, 2], slice(1, None, 2))
    np.testing.assert_array_equal(x[key].numpy(), values[key])
    check_backward(lambda t: t[key], [x])


def test_float_index_is_rejected():
    x = mt.randn(3)
    with pytest.raises(IndexError, match="integer or bool"):
        x[mt.tensor([0.0, 1.0])]
    with pytest.raises(IndexError):
        x[5]


def test_setitem_is_refused_while_recording_on_a_tensor_that_requires_grad():
    x = mt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    with mt.no_grad():
        x[0] = 1.0
    np.testing.assert_array_equal(x.detach().numpy(), [1, 0, 0])
