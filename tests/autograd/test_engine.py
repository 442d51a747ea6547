"""The backward engine: accumulation, shared tensors, retain_graph, freed graphs,
no_grad, non-scalar outputs, retain_grad, deep graphs, multi-output Functions."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.autograd import Function
from tests.helpers import DEVICES


@pytest.mark.parametrize("device", DEVICES)
def test_square_gives_two_x(device):
    x = mt.randn(3, 4, device=device, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * x.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_accumulate_across_backward_calls(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    (3 * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


@pytest.mark.parametrize("device", DEVICES)
def test_tensor_used_twice_gets_the_summed_gradient(device):
    x = mt.tensor([2.0, -1.0], device=device, requires_grad=True)
    y = x * 3
    z = y * y + y  # y feeds two ops, and one of them twice
    z.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 3 * (2 * 3 * x.detach().numpy() + 1))


@pytest.mark.parametrize("device", DEVICES)
def test_diamond_graph(device):
    x = mt.tensor(1.5, device=device, requires_grad=True)
    a, b = x.exp(), x * x
    (a * b).backward()
    value = 1.5
    np.testing.assert_allclose(x.grad.item(), np.exp(value) * value**2 + np.exp(value) * 2 * value)


@pytest.mark.parametrize("device", DEVICES)
def test_second_backward_through_freed_graph_raises(device):
    x = mt.randn(3, device=device, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


@pytest.mark.parametrize("device", DEVICES)
def test_retain_graph_allows_a_second_backward(device):
    x = mt.randn(3, device=device, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 4 * x.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_backward_of_non_scalar_needs_a_gradient(device):
    x = mt.randn(3, device=device, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    y.backward(mt.tensor([1.0, 0.0, 2.0], device=device))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 4.0])
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(mt.ones(2, device=device))


def test_backward_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.randn(3).sum().backward()


@pytest.mark.parametrize("device", DEVICES)
def test_no_grad_records_nothing(device):
    x = mt.randn(3, device=device, requires_grad=True)
    with mt.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert mt.is_grad_enabled()

    @mt.no_grad()
    def double(t):
        return t * 2

    assert double(x).grad_fn is None
    with mt.no_grad():
        with mt.enable_grad():
            assert (x * 2).requires_grad


@pytest.mark.parametrize("device", DEVICES)
def test_detach_cuts_the_graph(device):
    x = mt.randn(3, device=device, requires_grad=True)
    y = x.detach() * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), x.detach().numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_only_requested_inputs_get_gradients(device):
    a = mt.randn(2, device=device, requires_grad=True)
    b = mt.randn(2, device=device)
    (a * b).sum().backward()
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), b.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_retain_grad_keeps_an_intermediate_gradient(device):
    x = mt.randn(3, device=device, requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.detach().numpy(), 2 * y.detach().numpy(), rtol=1e-6)


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = mt.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**5000, rtol=1e-4)


def test_leaf_gradients_are_never_shared_between_tensors():
    a = mt.randn(3, requires_grad=True)
    b = mt.randn(3, requires_grad=True)
    (a + b).sum().backward()  # Add returns the same array for both inputs
    with mt.no_grad():
        a.grad.mul_(10)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3))


def test_multi_output_function_with_unused_output():
    x = mt.randn(4, 2, requires_grad=True)
    top, _ = x.split(2)
    top.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [1, 1], [0, 0], [0, 0]])


def test_a_function_returning_a_wrong_gradient_shape_is_reported():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.sum()

    x = mt.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Broken.backward returned a gradient of shape"):
        Broken.apply(x).sum().backward()


def test_grad_fn_names_the_operation():
    x = mt.randn(2, requires_grad=True)
    assert (x * 2).grad_fn.name() == "MulBackward"
    assert x.is_leaf and not (x * 2).is_leaf


def test_integer_outputs_do_not_require_grad():
    x = mt.randn(3, 4, requires_grad=True)
    values, indices = x.max(1)
    assert values.requires_grad and not indices.requires_grad
    assert not (x > 0).requires_grad
