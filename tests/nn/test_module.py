"""nn.Module: registration, traversal, modes, in-place conversion, state dicts, repr."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from tests.helpers import DEVICES


class Block(nn.Module):
    """A module with a parameter, a persistent and a non-persistent buffer, a child."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(mt.ones(3))
        self.register_buffer("count", mt.zeros(1, dtype=mt.int64))
        self.register_buffer("scratch", mt.zeros(3), persistent=False)
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 3)
        self.blocks = nn.Sequential(Block(), nn.Identity())
        self.head = nn.ModuleDict({"out": nn.Linear(2, 5, bias=False)})

    def forward(self, x):
        return self.head["out"](self.blocks(self.stem(x)))


def test_named_parameters_are_dotted_and_in_registration_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == [
        "stem.weight",
        "stem.bias",
        "blocks.0.scale",
        "blocks.0.fc.weight",
        "blocks.0.fc.bias",
        "head.out.weight",
    ]


def test_parameters_are_tensors_that_require_grad():
    p = nn.Parameter(mt.zeros(2, 3))
    assert isinstance(p, mt.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(mt.zeros(2), requires_grad=False).requires_grad
    # arithmetic on a parameter, and its gradient, are plain tensors
    y = (p * 2).sum()
    y.backward()
    assert type(p * 2) is mt.Tensor and type(p.grad) is mt.Tensor
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_parameter_shares_memory_with_its_tensor():
    t = mt.zeros(3)
    p = nn.Parameter(t)
    t.array[0] = 5.0
    assert p.array[0] == 5.0


def test_shared_parameter_is_listed_once():
    a = nn.Linear(3, 3)
    b = nn.Linear(3, 3)
    b.weight = a.weight  # tied weights
    model = nn.Sequential(a, b)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.bias"]
    assert len(list(model.parameters())) == 3
    with_duplicates = [n for n, _ in model.named_parameters(remove_duplicate=False)]
    assert with_duplicates == ["0.weight", "0.bias", "1.weight", "1.bias"]
    # state_dict keeps every key, like PyTorch
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_shared_submodule_is_visited_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, shared)
    assert len(list(model.modules())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0"]
    assert len(list(model.parameters())) == 2


def test_buffers_persistent_and_not():
    block = Block()
    assert [n for n, _ in block.named_buffers()] == ["count", "scratch"]
    state = block.state_dict()
    assert list(state) == ["scale", "count", "fc.weight", "fc.bias"]
    assert state["count"].dtype == mt.int64
    # a non-persistent buffer becomes persistent when registered again
    block.register_buffer("scratch", mt.ones(3))
    assert "scratch" in block.state_dict()


def test_assignment_rules():
    block = Block()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        block.scale = mt.ones(3)  # a plain tensor cannot replace a parameter
    with pytest.raises(TypeError, match="buffer 'count'"):
        block.count = np.zeros(1)
    with pytest.raises(TypeError, match="child module 'fc'"):
        block.fc = 3
    block.count = mt.ones(1, dtype=mt.int64)  # a tensor can replace a buffer
    assert block.count.array[0] == 1
    block.scale = None
    assert "scale" not in block.state_dict()
    # re-assigning an attribute to a Parameter moves it to _parameters
    block.extra = 3
    block.extra = nn.Parameter(mt.zeros(1))
    assert "extra" in dict(block.named_parameters())
    del block.extra
    assert "extra" not in dict(block.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = block.missing


def test_register_errors():
    module = nn.Module()
    module.plain = 1
    with pytest.raises(KeyError, match="contain"):
        module.register_buffer("a.b", mt.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        module.register_buffer("plain", mt.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None"):
        module.register_buffer("b", [1.0])
    with pytest.raises(TypeError, match="Parameter or None"):
        module.register_parameter("w", mt.zeros(1))
    with pytest.raises(KeyError, match="empty string"):
        module.add_module("", nn.Identity())
    with pytest.raises(TypeError, match="not a Module"):
        module.add_module("x", 3)


def test_forgetting_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="bool"):
        net.train("no")


def test_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["stem", "blocks", "head"]
    names = [n for n, _ in net.named_modules()]
    assert names == ["", "stem", "blocks", "blocks.0", "blocks.0.fc", "blocks.1", "head", "head.out"]
    assert net.get_submodule("blocks.0.fc") is net.blocks[0].fc
    assert net.get_parameter("blocks.0.scale") is net.blocks[0].scale
    with pytest.raises(AttributeError, match="nope"):
        net.get_submodule("blocks.nope")


def test_apply_visits_children_first():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Identity()))
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Identity", "Sequential", "Sequential"]


def test_zero_grad_and_requires_grad():
    net = nn.Linear(3, 2)
    net(mt.randn(4, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert np.all(net.weight.grad.numpy() == 0)
    net.zero_grad()
    assert net.weight.grad is None and net.bias.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_converts_in_place_and_keeps_identity():
    block = Block()
    params = list(block.parameters())
    block(mt.randn(2, 3)).sum().backward()
    assert block.double() is block
    assert [id(p) for p in block.parameters()] == [id(p) for p in params]
    assert all(p.dtype == mt.float64 for p in block.parameters())
    assert all(p.grad.dtype == mt.float64 for p in block.parameters())
    assert block.count.dtype == mt.int64  # integer buffers keep their dtype
    assert block.scratch.dtype == mt.float64
    y = block(mt.randn(2, 3, dtype=mt.float64))
    assert y.dtype == mt.float64
    block.float()
    assert block.fc.weight.dtype == mt.float32
    with pytest.raises(TypeError, match="floating point"):
        block.to(mt.int32)


@pytest.mark.parametrize("device", DEVICES)
def test_to_device_keeps_identity(device):
    net = Net()
    params = list(net.parameters())
    before = [p.detach().numpy().copy() for p in params]
    net.to(device)
    assert all(p.device == device for p in net.parameters())
    assert all(b.device == device for b in net.buffers())
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    for p, values in zip(params, before):
        np.testing.assert_array_equal(p.detach().numpy(), values)
    net.cpu()
    assert all(p.device == "cpu" for p in net.parameters())


def test_state_dict_shares_memory_and_is_detached():
    net = nn.Linear(2, 2)
    state = net.state_dict()
    assert not state["weight"].requires_grad
    assert state["weight"].array is net.weight.array
    kept = net.state_dict(keep_vars=True)
    assert kept["weight"] is net.weight


def test_load_state_dict_round_trip_gives_identical_outputs():
    mt.manual_seed(0)
    source, target = Net(), Net()
    x = mt.randn(5, 4)
    assert not np.allclose(source(x).detach().numpy(), target(x).detach().numpy())
    weight = target.stem.weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    assert target.stem.weight is weight  # copied into the existing parameter
    # the copy is independent of the source
    source.stem.weight.array[...] = 0
    assert not np.all(target.stem.weight.detach().numpy() == 0)


def test_load_state_dict_accepts_arrays_and_casts_to_model_dtype():
    net = nn.Linear(2, 3)
    state = {k: v.numpy().astype(np.float64) + 1 for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    assert net.weight.dtype == mt.float32
    np.testing.assert_allclose(net.weight.detach().numpy(), state["weight"], rtol=1e-6)


def test_strict_load_lists_every_missing_and_unexpected_key():
    net = Net()
    state = net.state_dict()
    del state["stem.bias"]
    del state["blocks.0.count"]
    state["stem.extra"] = mt.zeros(1)
    state["nonsense"] = mt.zeros(1)
    before = net.stem.weight.detach().numpy().copy()
    state["stem.weight"] = state["stem.weight"] + 1
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    for key in ("stem.bias", "blocks.0.count", "stem.extra", "nonsense"):
        assert f'"{key}"' in message
    assert "Missing key(s)" in message and "Unexpected key(s)" in message
    # nothing was written
    np.testing.assert_array_equal(net.stem.weight.detach().numpy(), before)

    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["stem.bias", "blocks.0.count"]
    assert unexpected == ["stem.extra", "nonsense"]
    np.testing.assert_array_equal(net.stem.weight.detach().numpy(), before + 1)


def test_shape_mismatch_is_an_error_even_when_not_strict():
    net = Net()
    state = net.state_dict()
    state["stem.weight"] = mt.zeros(2, 2)
    state["head.out.weight"] = mt.zeros(1)
    for strict in (True, False):
        with pytest.raises(RuntimeError) as info:
            net.load_state_dict(state, strict=strict)
        message = str(info.value)
        assert "size mismatch for stem.weight" in message
        assert "size mismatch for head.out.weight" in message
        assert "(3, 4)" in message


def test_non_persistent_buffer_in_checkpoint_is_unexpected():
    block = Block()
    state = block.state_dict()
    state["scratch"] = mt.zeros(3)
    with pytest.raises(RuntimeError, match='"scratch"'):
        block.load_state_dict(state)


def test_load_state_dict_rejects_non_mappings():
    with pytest.raises(TypeError, match="dict-like"):
        nn.Linear(2, 2).load_state_dict([1, 2])


def test_repr_prints_the_tree():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2, bias=False)

        def extra_repr(self):
            return "note=1"

    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.Flatten()), Head(), nn.Identity())
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "  )\n"
        "  (2): Head(\n"
        "    note=1\n"
        "    (fc): Linear(in_features=4, out_features=2, bias=False)\n"
        "  )\n"
        "  (3): Identity()\n"
        ")"
    )


def test_forward_hooks():
    net = nn.Linear(2, 2)
    calls = []
    pre = net.register_forward_pre_hook(lambda m, args: calls.append("pre"))
    post = net.register_forward_hook(lambda m, args, out: out * 0)
    out = net(mt.randn(1, 2))
    assert calls == ["pre"] and np.all(out.detach().numpy() == 0)
    pre.remove()
    post.remove()
    x = mt.ones(1, 2)
    np.testing.assert_array_equal(net(x).detach().numpy(), mt.nn.functional.linear(x, net.weight, net.bias).detach().numpy())
    assert calls == ["pre"]


def test_module_without_forward_raises():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(mt.zeros(1))
