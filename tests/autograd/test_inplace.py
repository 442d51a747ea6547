"""In-place operations: PyTorch's rules (a leaf that requires grad changes only under
no_grad; a non-leaf records the operation), their gradients, in-place activations, and
version counters that turn a changed saved tensor into PyTorch's error."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES

F = mt.nn.functional
LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."
VERSION_ERROR = (
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation"
)


def _values(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


# ------------------------------------------------------------ the SGD idiom
@pytest.mark.parametrize("device", DEVICES)
def test_hand_written_sgd_step_updates_the_weights_in_place(device):
    """Issue #12's idiom: ``p -= lr * p.grad`` under no_grad must change the model."""
    mt.manual_seed(0)
    model = mt.nn.Linear(3, 1).to(device)
    x = mt.tensor(_values((8, 3)), dtype=mt.float32, device=device)
    y = mt.tensor(_values((8, 1), seed=1), dtype=mt.float32, device=device)
    params = list(model.parameters())
    before = [p.detach().numpy().copy() for p in params]
    versions = [p._version for p in params]  # (initialization wrote them in place too)
    losses = []
    for _ in range(20):
        loss = ((model(x) - y) ** 2).mean()
        losses.append(loss.item())
        for p in params:
            p.grad = None
        loss.backward()
        with mt.no_grad():
            for p in params:
                same = p
                p -= 0.1 * p.grad
                assert p is same  # the Parameter object itself, as the module holds it
    assert losses[-1] < 0.5 * losses[0]
    for p, old, version in zip(model.parameters(), before, versions):
        assert not np.array_equal(p.detach().numpy(), old)
        assert p._version == version + 20


@pytest.mark.parametrize(
    "update",
    [
        lambda p: p.__iadd__(1.0),
        lambda p: p.__isub__(1.0),
        lambda p: p.__imul__(2.0),
        lambda p: p.__itruediv__(2.0),
        lambda p: p.add_(1.0),
        lambda p: p.fill_(0.0),
        lambda p: p.zero_(),
        lambda p: p.copy_(mt.ones(3)),
        lambda p: p.clamp_(0, 1),
        lambda p: p.__setitem__(0, 1.0),
        lambda p: p.masked_fill_(mt.tensor([True, False, True]), 0.0),
        lambda p: p.normal_(),
        lambda p: p.relu_(),
        lambda p: F.silu(p, inplace=True),
    ],
)
def test_a_leaf_that_requires_grad_is_refused_outside_no_grad(update):
    p = mt.randn(3, requires_grad=True)
    before = p.detach().numpy().copy()
    with pytest.raises(RuntimeError) as error:
        update(p)
    assert str(error.value) == LEAF_ERROR
    np.testing.assert_array_equal(p.detach().numpy(), before)  # refused before any write
    assert p._version == 0
    with mt.no_grad():
        update(p)
    assert p._version == 1


# --------------------------------------------------------- non-leaf in a graph
@pytest.mark.parametrize("device", DEVICES)
def test_recorded_inplace_arithmetic_has_correct_gradients(device):
    def fn(x, b, c, d, e):
        y = x * 1.0
        y += b          # broadcast operand (3,) into (2, 3)
        y -= 0.5 * e
        y *= c
        y /= d
        y[0, 1] = e[0, 0] * 3.0
        y.clamp_(-3.0, 3.0)
        return y

    values = [_values((2, 3), 1), _values((3,), 2), _values((2, 3), 3),
              _values((2, 3), 4, 1.0, 2.0), _values((2, 3), 5)]
    tensors = [mt.tensor(v, device=device) for v in values]
    check_backward(fn, tensors, exhaustive=True)


@pytest.mark.parametrize("device", DEVICES)
def test_inplace_with_aliased_operand(device):
    """x *= x keeps the old x for d/dx: d(x^2)/dx = 2x."""
    def fn(x):
        y = x * 1.0
        y *= y
        y /= y + 3.0
        return y

    check_backward(fn, [mt.tensor(_values((4,), 7, 0.5, 2.0), device=device)], exhaustive=True)


@pytest.mark.parametrize("device", DEVICES)
def test_constant_leaf_joins_the_graph_through_an_inplace_operand(device):
    w = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    buffer = mt.zeros(2, device=device)
    buffer += w * 3.0
    assert not buffer.is_leaf and buffer.requires_grad
    (buffer * buffer).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [18.0, 36.0])


def test_inplace_dtype_and_shape_errors():
    ints = mt.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints += 1.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints /= 2
    ints += mt.tensor([1, 1, 1])  # int into int is fine
    assert ints.tolist() == [2, 3, 4]
    x = mt.zeros(3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x += mt.ones(2, 3)
    x += mt.ones(3, dtype=mt.float64)  # cast into float32, as PyTorch
    assert x.dtype == mt.float32 and x.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="single memory location"):
        mt.zeros(1).expand(3).add_(1.0)


def test_views_in_a_graph_are_refused_and_stale_views_are_detected():
    leaf = mt.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        leaf[0].add_(1.0)
    y = leaf * 2.0
    with pytest.raises(RuntimeError, match="view of another tensor"):
        y[0].mul_(2.0)
    row = y[1]
    y.relu_()  # y's history moves on; row's does not
    with pytest.raises(RuntimeError, match="view's history is out of date"):
        row * 2.0
    # outside any graph, views of plain tensors are free to change in place
    data = mt.zeros(2, 3)
    data[0].add_(1.0)
    assert data.sum().item() == 3.0


# ------------------------------------------------------------ activations
ACTIVATIONS = {  # name: the functional form, op(tensor, inplace)
    "relu": lambda t, i: F.relu(t, inplace=i),
    "relu6": lambda t, i: F.relu6(t, inplace=i),
    "hardtanh": lambda t, i: F.hardtanh(t, -0.5, 0.5, inplace=i),
    "leaky_relu": lambda t, i: F.leaky_relu(t, 0.2, inplace=i),
    "elu": lambda t, i: F.elu(t, 0.7, inplace=i),
    "silu": lambda t, i: F.silu(t, inplace=i),
    "hardswish": lambda t, i: F.hardswish(t, inplace=i),
}
MODULES = {
    "relu": mt.nn.ReLU(inplace=True),
    "relu6": mt.nn.ReLU6(inplace=True),
    "hardtanh": mt.nn.Hardtanh(-0.5, 0.5, inplace=True),
    "leaky_relu": mt.nn.LeakyReLU(0.2, inplace=True),
    "elu": mt.nn.ELU(0.7, inplace=True),
    "silu": mt.nn.SiLU(inplace=True),
    "hardswish": mt.nn.Hardswish(inplace=True),
}


def _away_from_kinks(shape, seed):
    """Values kept 0.1 away from the kinks at 0, +-0.5, +-3, 6."""
    values = _values(shape, seed, -5.0, 7.0)
    for kink in (0.0, 0.5, -0.5, 3.0, -3.0, 6.0):
        near = np.abs(values - kink) < 0.1
        values[near] = kink + 0.2
    return values


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_inplace_activation_overwrites_the_input_and_keeps_the_gradient(name, device):
    op = ACTIVATIONS[name]
    values = _away_from_kinks((3, 4), 11)
    expected = op(mt.tensor(values, device=device), False).numpy()
    x = mt.tensor(values, device=device)
    out = op(x, True)
    assert out is x and x._version == 1
    np.testing.assert_array_equal(x.numpy(), expected)
    y = mt.tensor(values, device=device)
    assert MODULES[name](y) is y
    np.testing.assert_array_equal(y.numpy(), expected)
    # in a graph: on a non-leaf, the gradient is that of the out-of-place op
    check_backward(lambda t: op(t * 1.0, True), [mt.tensor(values, device=device)], exhaustive=True)


def test_inplace_activation_saves_the_input_memory():
    """relu_ keeps the (overwritten) input for backward, so changing it again is caught."""
    x = mt.randn(5, requires_grad=True)
    y = x * 2.0
    F.relu(y, inplace=True)
    assert y.grad_fn.name() == "ReLUBackward"
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        y.sum().backward()


def test_negative_slopes_cannot_run_in_place_in_a_graph():
    y = mt.randn(3, requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="negative slope"):
        F.leaky_relu(y, -0.1, inplace=True)
    with pytest.raises(RuntimeError, match="negative slope"):
        F.elu(y, -1.0, inplace=True)
    check_backward(lambda t: F.leaky_relu(t, -0.3), [mt.tensor(_away_from_kinks((6,), 2))])
    check_backward(lambda t: F.elu(t, -0.5), [mt.tensor(_away_from_kinks((6,), 3))])


# --------------------------------------------------------- version counters
def test_every_inplace_operation_bumps_the_version_shared_by_views():
    x = mt.zeros(2, 3)
    view, data, detached = x.view(6), x.data, x.detach()
    assert x._version == 0
    x.add_(1)
    view.mul_(2)
    data.fill_(3)
    detached[0, 0] = 4
    x.copy_(mt.ones(2, 3))
    with mt.no_grad():
        x += 1
    assert x._version == view._version == data._version == detached._version == 6
    assert mt.zeros(2)._version == 0
    x.data = mt.ones(2, 3)  # another array now: the counter starts again
    assert x._version == 0 and view._version == 6


@pytest.mark.parametrize("device", DEVICES)
def test_issue_13_reproductions_raise_pytorchs_error(device):
    """Each of issue #13's silently wrong gradients now raises."""
    # conv2d's weight gradient after x.fill_(0)
    x = mt.ones(1, 1, 4, 4, device=device)
    w = mt.ones(1, 1, 3, 3, device=device, requires_grad=True)
    loss = F.conv2d(x, w).sum()
    x.fill_(0)
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        loss.backward()
    # (a*b).sum() then b.fill_(7) under no_grad
    a = mt.randn(3, device=device, requires_grad=True)
    b = mt.randn(3, device=device, requires_grad=True)
    loss = (a * b).sum()
    with mt.no_grad():
        b.fill_(7)
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        loss.backward()
    # cross entropy's weight and target
    logits = mt.randn(4, 3, device=device, requires_grad=True)
    target = mt.tensor([0, 2, 1, 0], device=device)
    weight = mt.ones(3, device=device)
    loss = F.cross_entropy(logits, target, weight=weight)
    weight.mul_(2)
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        loss.backward()
    loss = F.cross_entropy(logits, target)
    target.fill_(1)
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        loss.backward()
    # max_pool2d(return_indices=True) and max_unpool2d
    image = mt.randn(1, 1, 4, 4, device=device, requires_grad=True)
    pooled, indices = F.max_pool2d(image, 2, return_indices=True)
    unpooled = F.max_unpool2d(pooled, indices, 2)
    indices.fill_(0)
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        unpooled.sum().backward()
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        pooled.sum().backward()


def test_the_error_names_the_tensor_and_the_versions():
    a = mt.randn(2, 3, requires_grad=True)
    b = mt.randn(2, 3)
    loss = (a * b).sum()
    b.add_(1)
    b.add_(1)
    with pytest.raises(RuntimeError) as error:
        loss.backward()
    message = str(error.value)
    assert "[float32 tensor of shape (2, 3)], input 1 of MulBackward" in message
    assert "is at version 2; expected version 0 instead" in message


def test_an_optimizer_step_between_two_backwards_is_caught():
    model = mt.nn.Linear(2, 2)
    optimizer = mt.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(mt.randn(4, 2)) ** 2).sum()
    loss.backward(retain_graph=True)
    optimizer.step()
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        loss.backward()


def test_changes_before_the_forward_pass_or_to_unsaved_tensors_are_fine():
    a = mt.randn(3, requires_grad=True)
    b = mt.randn(3)
    b.fill_(2.0)  # before the forward pass
    c = mt.randn(3)
    loss = (a * b).sum() + (a + c).sum()
    c.fill_(5.0)  # Add saves nothing
    loss.backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0, 3.0])
