"""Gradient checkpointing: same values and gradients as the plain call, nothing of the
function's inside kept by the graph, parameters reached through the recomputation."""
import gc
import weakref

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.autograd.checkpoint import checkpoint
from minitorch_cv.gradcheck import check_backward


def small_block():
    mt.manual_seed(0)
    return nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 4, 3, padding=1)).double()


def test_values_and_gradients_match_the_plain_call():
    block = small_block()
    rng = np.random.default_rng(0)
    a = mt.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    b = mt.tensor(rng.standard_normal((2, 1, 5, 4)), requires_grad=True)

    def fn(x, y):
        return block(mt.cat([x, y], 1)) * 2

    expected = fn(a, b)
    expected.sum().backward()
    plain = [t.grad.detach().numpy() for t in (a, b)] + [p.grad.detach().numpy() for p in block.parameters()]
    for t in [a, b, *block.parameters()]:
        t.grad = None

    out = checkpoint(fn, a, b)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    recomputed = [t.grad.detach().numpy() for t in (a, b)] + [p.grad.detach().numpy() for p in block.parameters()]
    for got, want in zip(recomputed, plain):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_finite_differences():
    block = small_block()
    x = mt.tensor(np.random.default_rng(1).standard_normal((2, 3, 4, 5)))
    check_backward(lambda t: checkpoint(block, t), [x])


def test_only_inputs_that_need_a_gradient_get_one():
    block = small_block()
    x = mt.randn(2, 3, 4, 4, dtype=mt.float64, requires_grad=True)
    y = mt.randn(2, 3, 4, 4, dtype=mt.float64)  # no gradient wanted
    checkpoint(lambda p, q: block(p + q), x, y).sum().backward()
    assert x.grad is not None and y.grad is None


def test_the_graph_keeps_none_of_the_intermediates():
    seen = []

    def fn(x):
        hidden = x * 3  # an intermediate that the next product saves for its backward
        seen.append(weakref.ref(hidden.array))
        return hidden * x

    x = mt.randn(4, requires_grad=True)
    plain = fn(x)
    gc.collect()
    assert seen[0]() is not None  # a plain graph keeps it until backward
    del plain
    out = checkpoint(fn, x)
    gc.collect()
    assert seen[1]() is None  # checkpointed: freed after the forward
    out.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 6 * x.detach().numpy(), rtol=1e-6)
    assert len(seen) == 3  # the function ran again in backward


def test_without_inputs_that_need_a_gradient_it_is_a_plain_call():
    linear = nn.Linear(3, 2)
    out = checkpoint(linear, mt.randn(4, 3))
    out.sum().backward()  # the graph goes straight to the parameters
    assert linear.weight.grad is not None
    with mt.no_grad():
        assert not checkpoint(linear, mt.randn(4, 3, requires_grad=True)).requires_grad


def test_bad_arguments():
    with pytest.raises(TypeError, match="function must be callable"):
        checkpoint(3, mt.randn(2))
    with pytest.raises(TypeError, match=r"args\[1\] must be a Tensor"):
        checkpoint(lambda a, b: a, mt.randn(2), 3.0)
    with pytest.raises(TypeError, match="single Tensor"):
        checkpoint(lambda a: (a, a), mt.randn(2, requires_grad=True))
