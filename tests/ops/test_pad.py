"""pad with PyTorch's argument order (last dim first): constant, reflect, replicate,
negative amounts crop."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor, shapes

F = mt.nn.functional


@st.composite
def pad_case(draw, mode):
    shape = draw(shapes(min_dims=1, max_side=5), label="shape")
    padded_dims = draw(st.integers(1, len(shape)), label="padded dims")
    pad = []
    for size in reversed(shape[len(shape) - padded_dims :]):  # last dim first
        top = size - 1 if mode == "reflect" else 3
        low = 0 if mode == "reflect" else -((size - 1) // 2)  # crop, never to empty
        pad += [draw(st.integers(low, top)), draw(st.integers(low, top))]
    return shape, tuple(pad)


def _numpy_pad(values, pad, mode, value=0.0):
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    widths = [(0, 0)] * (values.ndim - len(pairs)) + pairs
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, values.shape))
    positive = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    mode = {"replicate": "edge"}.get(mode, mode)
    kwargs = {"constant_values": value} if mode == "constant" else {}
    return np.pad(values[crop], positive, mode=mode, **kwargs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
@given(data=st.data())
def test_pad_matches_numpy_and_gradients(mode, device, data):
    shape, pad = data.draw(pad_case(mode))
    values = data.draw(arrays(shape))
    layout = data.draw(layouts(), label="layout")
    x = make_tensor(values, device, layout)
    kwargs = {"value": 1.5} if mode == "constant" else {}
    out = F.pad(x, pad, mode=mode, **kwargs)
    np.testing.assert_array_equal(out.numpy(), _numpy_pad(values, pad, mode, 1.5))
    check_backward(lambda t: F.pad(t, pad, mode=mode, **kwargs), [x])


def test_reflect_padding_of_a_row_by_hand():
    x = mt.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="reflect").numpy(), [[3, 2, 1, 2, 3, 2]])


def test_bad_padding_raises():
    x = mt.randn(2, 3)
    with pytest.raises(ValueError, match="even number"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="smaller than the dim size"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="mode"):
        F.pad(x, (1, 1), mode="circle")
    with pytest.raises(ValueError, match="empty"):
        F.pad(x, (-2, -1))
