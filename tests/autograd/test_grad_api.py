"""PyTorch's autograd extras: autograd.grad, Tensor.register_hook, grad_fn.next_functions
and name(), Module.register_full_backward_hook, autograd.gradcheck, numpy() on a
tensor that requires grad, view() of a non-contiguous tensor."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.autograd import Function
from minitorch_cv.gradcheck import GradientCheckError
from tests.helpers import DEVICES


# ------------------------------------------------------------------ autograd.grad
@pytest.mark.parametrize("device", DEVICES)
def test_grad_returns_gradients_without_touching_dot_grad(device):
    x = mt.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    w = mt.tensor([0.5, -1.0, 2.0], device=device, requires_grad=True)
    y = (x * x * w).sum()
    gx, gw = mt.autograd.grad(y, (x, w), retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), 2 * np.array([1.0, 2.0, 3.0]) * [0.5, -1.0, 2.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 4.0, 9.0])
    assert x.grad is None and w.grad is None
    (gw_only,) = mt.autograd.grad(y, w)  # the graph was retained for this second call
    np.testing.assert_allclose(gw_only.numpy(), gw.numpy())
    with pytest.raises(RuntimeError, match="second time"):
        mt.autograd.grad(y, w)


@pytest.mark.parametrize("device", DEVICES)
def test_grad_of_several_outputs_with_grad_outputs_and_non_leaf_inputs(device):
    x = mt.tensor([1.0, -2.0], device=device, requires_grad=True)
    h = x * 3.0  # a non-leaf input
    a, b = h * h, h.sum() * 2.0
    seed = mt.tensor([1.0, 10.0], device=device)
    (gh,) = mt.autograd.grad([a, b], [h], grad_outputs=[seed, None])
    np.testing.assert_allclose(gh.numpy(), 2 * np.array([3.0, -6.0]) * [1.0, 10.0] + 2.0)


def test_grad_unused_inputs_and_refusals():
    x = mt.randn(3, requires_grad=True)
    unused = mt.randn(3, requires_grad=True)
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        mt.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = mt.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
    assert gu is None and np.allclose(gx.numpy(), 2.0)
    _, zeros = mt.autograd.grad(y, [x, unused], materialize_grads=True, retain_graph=True)
    assert zeros.numpy().tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.autograd.grad(y, mt.randn(3), retain_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        mt.autograd.grad(y, x, create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        y.backward(create_graph=True)


def test_backward_inputs_accumulates_only_into_the_given_tensors():
    a = mt.randn(2, requires_grad=True)
    b = mt.randn(2, requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), b.detach().numpy())


# -------------------------------------------------------------------- hooks
@pytest.mark.parametrize("device", DEVICES)
def test_tensor_hooks_see_and_replace_gradients(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))  # a leaf: the total, once
    h = x * 3.0
    handle = h.register_hook(lambda g: g * 10.0)  # replaces h's gradient
    (h * h + h).sum().backward()
    expected = (2 * 3 * np.array([1.0, 2.0]) + 1) * 10 * 3
    np.testing.assert_allclose(x.grad.numpy(), expected)
    assert len(seen) == 1 and np.allclose(seen[0], expected)
    handle.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mt.zeros(2).register_hook(lambda g: g)


def test_retain_grad_sees_what_the_hooks_made():
    x = mt.randn(3, requires_grad=True)
    h = x * 1.0
    h.register_hook(lambda g: g * 2.0)
    h.retain_grad()
    h.sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [2.0, 2.0, 2.0])


def test_grad_fn_names_and_next_functions():
    a = mt.randn(2, requires_grad=True)
    b = mt.randn(2)
    y = (a * b).sum()
    assert y.grad_fn.name() == "SumBackward"
    ((mul, index),) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward" and index == 0
    (accumulate, _), (none, zero) = mul.next_functions
    assert accumulate.name() == "AccumulateGrad" and accumulate.variable is a
    assert none is None and zero == 0
    assert a.grad_fn is None


@pytest.mark.parametrize("device", DEVICES)
def test_full_backward_hook_gets_the_modules_own_gradients(device):
    mt.manual_seed(0)
    layer = mt.nn.Linear(3, 2).to(device)
    calls = []

    def hook(module, grad_input, grad_output):
        calls.append((module, grad_input, grad_output))
        return (grad_input[0] * 0.0,)  # replace the input gradient

    layer.register_full_backward_hook(hook)
    x = mt.randn(4, 3, device=device, requires_grad=True)
    out = layer(x)
    # x is also used outside the module: that part must not reach the hook
    (out.sum() + (x * 5.0).sum()).backward()
    ((module, grad_input, grad_output),) = calls
    assert module is layer
    np.testing.assert_allclose(grad_output[0].numpy(), np.ones((4, 2)))
    expected_input = np.ones((4, 2)) @ layer.weight.detach().numpy()
    np.testing.assert_allclose(grad_input[0].numpy(), expected_input, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), np.full((4, 3), 5.0))  # hook zeroed its part
    assert layer.weight.grad is not None


def test_full_backward_hook_without_input_gradients():
    layer = mt.nn.Linear(2, 2)
    calls = []
    handle = layer.register_full_backward_hook(lambda m, gi, go: calls.append((gi, go)))
    layer(mt.randn(3, 2)).sum().backward()  # the input needs no gradient
    ((grad_input, grad_output),) = calls
    assert grad_input == (None,) and grad_output[0].shape == (3, 2)
    handle.remove()
    layer(mt.randn(3, 2)).sum().backward()
    assert len(calls) == 1


# ------------------------------------------------------------------ gradcheck
class _WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2 x


def test_gradcheck_under_pytorchs_name():
    x = mt.randn(3, dtype=mt.float64, requires_grad=True)
    fixed = mt.randn(3, dtype=mt.float64)  # requires no grad: held fixed
    assert mt.autograd.gradcheck(lambda a, b: (a * b).exp(), (x, fixed))
    assert mt.autograd.gradcheck(lambda a: a.exp(), x, fast_mode=True)
    with pytest.raises(GradientCheckError):
        mt.autograd.gradcheck(_WrongSquare.apply, (x,))
    assert mt.autograd.gradcheck(_WrongSquare.apply, (x,), raise_exception=False) is False
    with pytest.raises(ValueError, match="requires_grad=True"):
        mt.autograd.gradcheck(lambda a: a * 2, (fixed,))


# ------------------------------------------------------- numpy() and view()
def test_numpy_refuses_a_tensor_that_requires_grad():
    x = mt.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        x.numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(x)
    assert x.detach().numpy().shape == (3,) and x.numpy(force=True).shape == (3,)
    assert len(x.tolist()) == 3 and "requires_grad=True" in repr(x)  # these still work
    with mt.no_grad():
        y = x * 2
    assert y.numpy().shape == (3,)


# (shape, permutation, target, whether PyTorch 2.13 can make the view, as it answered)
VIEW_CASES = [
    ((2, 3, 4), (1, 0, 2), (3, 8), False),  # merges dims whose strides do not chain
    ((2, 3, 4), (1, 0, 2), (3, 2, 2, 2), True),  # splits the last dim only
    ((2, 3, 4), (1, 0, 2), (6, 4), False),
    ((2, 3), (1, 0), (6,), False),
    ((2, 3), (1, 0), (3, 2), True),  # the same shape
    ((2, 3), (1, 0), (3, 1, 2), True),  # inserts a size-1 dim
    ((4, 1, 3), (1, 0, 2), (12,), True),  # moving a size-1 dim keeps it contiguous
]


@pytest.mark.parametrize("shape, order, target, possible", VIEW_CASES)
def test_view_follows_pytorchs_stride_rule(shape, order, target, possible):
    base = mt.arange(float(np.prod(shape))).reshape(shape)
    x = base.permute(*order)
    expected = x.detach().numpy().reshape(target)
    if possible:
        view = x.view(*target)
        np.testing.assert_array_equal(view.numpy(), expected)
        view.add_(1.0)  # a real view: the base changes too
        assert base._version == 1 and base.sum().item() == x.sum().item()
    else:
        with pytest.raises(RuntimeError, match=r"Use \.reshape\(\.\.\.\) instead"):
            x.view(*target)
        np.testing.assert_array_equal(x.reshape(*target).numpy(), expected)  # reshape copies

    # (checked against PyTorch 2.13: every other column of a (3, 4) tensor is evenly
    # spaced and can be viewed flat; the first two columns cannot)
    assert mt.arange(12.0).reshape(3, 4)[:, ::2].view(6).tolist() == [0, 2, 4, 6, 8, 10]
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        mt.arange(12.0).reshape(3, 4)[:, :2].view(6)
