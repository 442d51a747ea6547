"""Binary elementwise ops with broadcasting: + - * / ** maximum minimum where.

Operands are drawn as broadcastable pairs (either side may be the smaller one), in
any layout; gradients must come back reduced to each operand's own shape.
"""
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES, assert_close
from tests.strategies import arrays, broadcastable_to, layouts, make_tensor, shapes

# name: (op, numpy formula, range of a, range of b)
BINARY = {
    "add": (operator.add, operator.add, (-2, 2), (-2, 2)),
    "sub": (operator.sub, operator.sub, (-2, 2), (-2, 2)),
    "mul": (operator.mul, operator.mul, (-2, 2), (-2, 2)),
    "div": (operator.truediv, operator.truediv, (-2, 2), (0.5, 2)),
    "pow": (operator.pow, operator.pow, (0.5, 2), (-2, 2)),
    "maximum": (mt.maximum, np.maximum, (-2, 2), (-2, 2)),
    "minimum": (mt.minimum, np.minimum, (-2, 2), (-2, 2)),
    "add_alpha": (lambda a, b: mt.add(a, b, alpha=0.5), lambda a, b: a + 0.5 * b, (-2, 2), (-2, 2)),
}


@st.composite
def operand_pair(draw, name, dtype):
    """Two broadcastable value arrays; which side is the smaller one is drawn too.
    For maximum/minimum the values are distinct so that no pair ties."""
    _, _, range_a, range_b = BINARY[name]
    big = draw(shapes(), label="shape")
    small = draw(broadcastable_to(big), label="small shape")
    shape_a, shape_b = (big, small) if draw(st.booleans()) else (small, big)
    distinct = name in ("maximum", "minimum")
    if distinct:
        # Both from one permutation of well-separated levels: no a == b anywhere.
        size_a, size_b = int(np.prod(shape_a)), int(np.prod(shape_b))
        values = draw(arrays((size_a + size_b,), np.float64, -2, 2, distinct=True))
        a, b = values[:size_a].reshape(shape_a), values[size_a:].reshape(shape_b)
    else:
        a = draw(arrays(shape_a, np.float64, *range_a))
        b = draw(arrays(shape_b, np.float64, *range_b))
    return a.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_forward_matches_numpy(name, device, data):
    op, reference, _, _ = BINARY[name]
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    a, b = data.draw(operand_pair(name, dtype))
    layout = data.draw(layouts(), label="layout")
    out = op(make_tensor(a, device, layout), make_tensor(b, device))
    expected = reference(a.astype(np.float64), b.astype(np.float64))
    assert out.shape == expected.shape
    assert out.dtype == dtype
    assert_close(out, expected.astype(dtype), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_gradients_reduce_to_each_operand_shape(name, device, data):
    op = BINARY[name][0]
    a, b = data.draw(operand_pair(name, np.float64))
    layout = data.draw(layouts(), label="layout")
    check_backward(op, [make_tensor(a, device, layout), make_tensor(b, device)])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_scalar_operands_on_either_side(device, data):
    shape = data.draw(shapes(), label="shape")
    x = data.draw(arrays(shape, np.float64, 0.5, 2))
    scalar = data.draw(st.floats(0.5, 2), label="scalar")
    cases = {
        "x+s": (lambda t: t + scalar, x + scalar),
        "s+x": (lambda t: scalar + t, scalar + x),
        "x-s": (lambda t: t - scalar, x - scalar),
        "s-x": (lambda t: scalar - t, scalar - x),
        "x*s": (lambda t: t * scalar, x * scalar),
        "s*x": (lambda t: scalar * t, scalar * x),
        "x/s": (lambda t: t / scalar, x / scalar),
        "s/x": (lambda t: scalar / t, scalar / x),
        "x**s": (lambda t: t**scalar, x**scalar),
        "s**x": (lambda t: scalar**t, scalar**x),
        "max(x,s)": (lambda t: mt.maximum(t, scalar), np.maximum(x, scalar)),
    }
    for name, (op, expected) in cases.items():
        out = op(make_tensor(x.astype(np.float32), device))
        assert out.dtype == np.float32, f"{name}: a Python number must not change the dtype"
        assert_close(out, expected.astype(np.float32), np.float32)
        check_backward(op, [make_tensor(x, device)])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_where_routes_gradients_by_condition(device, data):
    big = data.draw(shapes(), label="shape")
    cond_shape, a_shape, b_shape = (data.draw(broadcastable_to(big)) for _ in range(3))
    condition = data.draw(arrays(cond_shape, np.float64)) > 0
    a = data.draw(arrays(a_shape, np.float64))
    b = data.draw(arrays(b_shape, np.float64))
    cond = mt.tensor(condition, device=device)
    out = mt.where(cond, make_tensor(a, device), make_tensor(b, device))
    assert_close(out, np.where(condition, a, b))
    check_backward(lambda x, y: mt.where(cond, x, y), [make_tensor(a, device), make_tensor(b, device)])


@pytest.mark.parametrize("device", DEVICES)
def test_maximum_splits_the_gradient_of_ties(device):
    # PyTorch gives each side half of the gradient where the two are equal.
    a = mt.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    b = mt.tensor([1.0, 5.0, 0.0], device=device, requires_grad=True)
    mt.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0, 0.0])


def test_integer_division_gives_float_like_pytorch():
    counts = mt.tensor([3, 4])
    assert counts.dtype == mt.int64
    ratio = counts / 2
    assert ratio.dtype == mt.float32
    np.testing.assert_allclose(ratio.numpy(), [1.5, 2.0])


def test_mixed_dtypes_raise_naming_both():
    with pytest.raises(TypeError, match="float32.*float64"):
        mt.ones(3) + mt.ones(3, dtype=mt.float64)
    with pytest.raises(TypeError, match="float32.*int64"):
        mt.ones(3) * mt.tensor([1, 2, 3])


def test_broadcast_mismatch_raises():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        mt.ones(2, 3) + mt.ones(4)


def test_non_numeric_operand_raises():
    with pytest.raises(TypeError, match="operand"):
        mt.ones(3) + "a"
    with pytest.raises(TypeError, match="operand"):
        mt.ones(3) * [1.0, 2.0, 3.0]
