"""Shape ops: reshape/view, transpose/permute, flatten, squeeze/unsqueeze, expand,
contiguous, cat/stack, split/chunk. Values never change, so forward is compared with
NumPy exactly and gradients with finite differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor, shapes


def _check(op, reference, values, device, layout):
    out = op(make_tensor(values, device, layout))
    outs = out if isinstance(out, tuple) else (out,)
    refs = reference(values) if isinstance(out, tuple) else (reference(values),)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.shape == r.shape
        np.testing.assert_array_equal(o.numpy(), r)
    check_backward(op, [make_tensor(values, device, layout)])


KINDS = [
    "reshape", "view", "transpose", "permute", "flatten", "squeeze", "squeeze_dim",
    "unsqueeze", "expand", "contiguous", "split", "split_sections", "chunk", "T",
]


@st.composite
def shape_case(draw, kind):
    """(name, op, numpy reference, values) for the shape op ``kind``."""
    shape = draw(shapes(min_dims=1), label="shape")
    ndim = len(shape)
    values = draw(arrays(shape))
    if kind == "reshape":
        target = (-1,) + shape[2:] if ndim >= 2 else (int(np.prod(shape)),)
        return kind, lambda t: t.reshape(target), lambda a: a.reshape(target), values
    if kind == "view":  # view needs strides that allow it (tests/ops/test_view.py): contiguous
        target = (-1,) + shape[2:] if ndim >= 2 else (int(np.prod(shape)),)
        return kind, lambda t: t.contiguous().view(target), lambda a: a.reshape(target), values
    if kind == "transpose":
        d0, d1 = draw(st.integers(-ndim, ndim - 1)), draw(st.integers(-ndim, ndim - 1))
        return kind, lambda t: t.transpose(d0, d1), lambda a: np.swapaxes(a, d0, d1), values
    if kind == "permute":
        order = tuple(draw(st.permutations(range(ndim))))
        return kind, lambda t: t.permute(*order), lambda a: a.transpose(order), values
    if kind == "T":
        return kind, lambda t: t.T, lambda a: a.T, values
    if kind == "flatten":
        start = draw(st.integers(0, ndim - 1))
        end = draw(st.integers(start, ndim - 1))
        merged = shape[:start] + (int(np.prod(shape[start : end + 1])),) + shape[end + 1 :]
        return kind, lambda t: t.flatten(start, end), lambda a: a.reshape(merged), values
    if kind == "squeeze":
        return kind, lambda t: t.squeeze(), lambda a: np.squeeze(a), values
    if kind == "squeeze_dim":
        d = draw(st.integers(-ndim, ndim - 1))
        expected = (lambda a: np.squeeze(a, d)) if shape[d] == 1 else (lambda a: a)
        return kind, lambda t: t.squeeze(d), expected, values
    if kind == "unsqueeze":
        d = draw(st.integers(-ndim - 1, ndim))
        return kind, lambda t: t.unsqueeze(d), lambda a: np.expand_dims(a, d), values
    if kind == "expand":
        target = tuple(draw(st.integers(1, 3)) if s == 1 else (-1 if draw(st.booleans()) else s) for s in shape)
        lead = (2,) if draw(st.booleans()) else ()
        final = lead + tuple(s if t == -1 else t for s, t in zip(shape, target))
        return kind, lambda t: t.expand(*(lead + target)), lambda a: np.broadcast_to(a, final), values
    if kind == "contiguous":
        return kind, lambda t: t.contiguous(), lambda a: a, values
    d = draw(st.integers(0, ndim - 1))
    length = shape[d]
    if kind == "split":
        size = draw(st.integers(1, length + 1))
        bounds = list(range(size, length, size))
        return kind, lambda t: t.split(size, d), lambda a: tuple(np.split(a, bounds, axis=d)), values
    if kind == "split_sections":
        cut = draw(st.integers(0, length))
        return (
            kind,
            lambda t: t.split([cut, length - cut], d),
            lambda a: tuple(np.split(a, [cut], axis=d)),
            values,
        )
    chunks = draw(st.integers(1, length + 1))
    step = -(-length // chunks)
    bounds = list(range(step, length, step))
    return kind, lambda t: t.chunk(chunks, d), lambda a: tuple(np.split(a, bounds, axis=d)), values


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_shape_ops_match_numpy_and_gradients(kind, device, data):
    _, op, reference, values = data.draw(shape_case(kind))
    layout = data.draw(layouts(), label="layout")
    _check(op, reference, values, device, layout)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_cat_and_stack(device, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    d = data.draw(st.integers(0, len(shape) - 1), label="dim")
    count = data.draw(st.integers(1, 3), label="count")
    pieces = []
    for _ in range(count):
        piece_shape = shape[:d] + (data.draw(st.integers(1, 3)),) + shape[d + 1 :]
        pieces.append(data.draw(arrays(piece_shape)))
    tensors = [make_tensor(p, device) for p in pieces]
    np.testing.assert_array_equal(mt.cat(tensors, d).numpy(), np.concatenate(pieces, d))
    check_backward(lambda *ts: mt.cat(ts, d), tensors)

    same = [data.draw(arrays(shape)) for _ in range(count)]
    s = data.draw(st.integers(-len(shape) - 1, len(shape)), label="stack dim")
    np.testing.assert_array_equal(mt.stack([make_tensor(v, device) for v in same], s).numpy(), np.stack(same, s))
    check_backward(lambda *ts: mt.stack(ts, s), [make_tensor(v, device) for v in same])


@pytest.mark.parametrize("device", DEVICES)
def test_unused_split_pieces_get_zero_gradient(device):
    x = mt.randn(5, 2, device=device, requires_grad=True)
    first, _, last = x.split([2, 2, 1])
    (first.sum() + 3 * last.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [1, 1], [0, 0], [0, 0], [3, 3]])


def test_views_share_memory_like_numpy():
    x = mt.arange(6.0)
    y = x.view(2, 3)
    with mt.no_grad():
        y[0, 0] = 100.0
    assert x[0].item() == 100.0


def test_bad_shapes_raise():
    x = mt.randn(2, 3)
    with pytest.raises(RuntimeError, match=r"shape \(4, 2\) is invalid for an input of shape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="one -1"):
        x.reshape(-1, -1)
    with pytest.raises(ValueError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match="dim"):
        x.transpose(0, 2)
    with pytest.raises(ValueError, match="expand"):
        x.expand(4, 3)
    with pytest.raises(ValueError, match="differ outside dim"):
        mt.cat([x, mt.randn(3, 2)], 0)
    with pytest.raises(ValueError, match="equal shapes"):
        mt.stack([x, mt.randn(3, 2)])
    with pytest.raises(ValueError, match="add up to"):
        x.split([1, 1], dim=1)
    with pytest.raises(ValueError, match="start_dim"):
        x.flatten(1, 0)
    with pytest.raises(TypeError, match="sequence"):
        mt.cat(x)
