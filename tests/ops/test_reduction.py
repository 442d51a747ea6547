"""Reductions: sum, mean, amax/amin, max/min (values and indices), var/std, logsumexp,
argmax/argmin, with dim tuples, negative dims and keepdim."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES, assert_close
from tests.strategies import arrays, layouts, make_tensor, shapes


@st.composite
def dims_for(draw, ndim):
    """None, one (possibly negative) dim, or a tuple of distinct dims."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in chosen)


def _np_dims(dim, ndim):
    return None if dim is None else dim


# name: (op taking (tensor, dim, keepdim), numpy formula taking (array, dim, keepdim), distinct values?)
REDUCTIONS = {
    "sum": (lambda t, d, k: t.sum(d, keepdim=k), lambda a, d, k: a.sum(axis=d, keepdims=k), False),
    "mean": (lambda t, d, k: t.mean(d, keepdim=k), lambda a, d, k: a.mean(axis=d, keepdims=k), False),
    "amax": (
        lambda t, d, k: t.amax(() if d is None else d, keepdim=k),
        lambda a, d, k: a.max(axis=d, keepdims=k),
        True,
    ),
    "amin": (
        lambda t, d, k: t.amin(() if d is None else d, keepdim=k),
        lambda a, d, k: a.min(axis=d, keepdims=k),
        True,
    ),
    "var": (
        lambda t, d, k: t.var(d, keepdim=k),
        lambda a, d, k: a.var(axis=d, keepdims=k, ddof=1),
        False,
    ),
    "var_biased": (
        lambda t, d, k: t.var(d, correction=0, keepdim=k),
        lambda a, d, k: a.var(axis=d, keepdims=k),
        False,
    ),
    "std_unbiased_flag": (
        lambda t, d, k: t.std(d, unbiased=True, keepdim=k),
        lambda a, d, k: a.std(axis=d, keepdims=k, ddof=1),
        True,  # std = sqrt(var) has a kink where all values are equal
    ),
    "logsumexp": (
        lambda t, d, k: t.logsumexp(tuple(range(t.ndim)) if d is None else d, keepdim=k),
        lambda a, d, k: np.log(np.exp(a).sum(axis=d, keepdims=k)),
        False,
    ),
}


def _draw_case(data, name, dtype):
    distinct = REDUCTIONS[name][2]
    shape = data.draw(shapes(min_dims=0 if name not in ("var", "std_unbiased_flag") else 1), label="shape")
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    values = data.draw(arrays(shape, np.float64, distinct=distinct), label="values").astype(dtype)
    if name in ("var", "std_unbiased_flag"):
        # The unbiased estimate needs at least two values per reduced slice.
        reduced = np.prod([shape[d] for d in (range(len(shape)) if dim is None else np.atleast_1d(dim))])
        if reduced < 2:
            shape = shape + (2,)
            values = np.concatenate([values[..., None], values[..., None] + 0.5], axis=-1).astype(dtype)
            dim = None
    return values, dim, keepdim


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_forward_matches_numpy(name, device, data):
    op, reference, _ = REDUCTIONS[name]
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    values, dim, keepdim = _draw_case(data, name, dtype)
    layout = data.draw(layouts(), label="layout")
    out = op(make_tensor(values, device, layout), dim, keepdim)
    expected = np.asarray(reference(values.astype(np.float64), dim, keepdim))
    assert out.shape == expected.shape
    assert out.dtype == dtype
    assert_close(out, expected.astype(dtype), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_gradient_matches_finite_differences(name, device, data):
    op = REDUCTIONS[name][0]
    values, dim, keepdim = _draw_case(data, name, np.float64)
    layout = data.draw(layouts(), label="layout")
    check_backward(lambda t: op(t, dim, keepdim), [make_tensor(values, device, layout)])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("largest", [True, False])
@given(data=st.data())
def test_max_min_along_dim_values_indices_and_gradient(largest, device, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    values = data.draw(arrays(shape, np.float64, distinct=True))
    x = make_tensor(values, device, data.draw(layouts(), label="layout"))
    values_out, indices = (mt.max if largest else mt.min)(x, dim, keepdim)
    pick = np.argmax if largest else np.argmin
    expected_indices = pick(values, axis=dim, keepdims=keepdim)
    assert indices.dtype == mt.int64
    np.testing.assert_array_equal(indices.numpy(), expected_indices)
    expected_values = (values.max if largest else values.min)(axis=dim, keepdims=keepdim)
    assert_close(values_out, expected_values)
    assert not indices.requires_grad
    check_backward(lambda t: (mt.max if largest else mt.min)(t, dim, keepdim)[0], [x])


@pytest.mark.parametrize("device", DEVICES)
def test_max_ties_follow_pytorch(device):
    x = mt.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], device=device, requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(indices.numpy(), [1, 0])  # the first maximum
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.max().backward()  # a full reduction shares the gradient among tied maxima
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])
    x.grad = None
    x.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0.5, 0]])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_argmax_argmin(device, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    values = data.draw(arrays(shape, np.float64, distinct=True))
    x = make_tensor(values, device)
    assert x.argmax().item() == int(np.argmax(values))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    np.testing.assert_array_equal(x.argmax(dim, keepdim).numpy(), np.argmax(values, axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(x.argmin(dim, keepdim).numpy(), np.argmin(values, axis=dim, keepdims=keepdim))


@pytest.mark.parametrize("device", DEVICES)
def test_logsumexp_is_stable(device):
    x = mt.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]], device=device, requires_grad=True)
    out = x.logsumexp(dim=1)
    np.testing.assert_allclose(out.detach().numpy(), [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 0.5))


def test_sum_of_bool_counts_like_pytorch():
    mask = mt.tensor([True, False, True])
    assert mask.sum().item() == 2
    assert mask.sum().dtype == mt.int64


def test_bad_dims_raise():
    x = mt.randn(2, 3)
    with pytest.raises(IndexError, match="dim"):
        x.sum(2)
    with pytest.raises(IndexError, match="dim"):
        x.max(-3)
    with pytest.raises(ValueError, match="unique"):
        x.sum((0, -2))
    with pytest.raises(TypeError, match="floating"):
        mt.tensor([1, 2]).mean()
    with pytest.raises(ValueError, match="correction or unbiased"):
        x.var(correction=1, unbiased=True)
