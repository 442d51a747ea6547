"""SGD, Adam, AdamW: updates against hand-computed ones (float64), the Optimizer base
(param groups, zero_grad, errors) and state_dict round trips mid-training."""
import copy
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn, optim
from tests.helpers import DEVICES

STEPS = 6


def _trajectory(make_optimizer, reference_step, device="cpu", seed=0):
    """Run the optimizer and the NumPy reference on the same gradients; both traces."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(STEPS)]
    param = nn.Parameter(mt.tensor(start, dtype=mt.float64, device=device))
    optimizer = make_optimizer([param])
    expected, state = start.copy(), {}
    for t, g in enumerate(grads, start=1):
        param.grad = mt.tensor(g, device=device)
        optimizer.step()
        expected = reference_step(expected, g, state, t)
        np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    return param


# ------------------------------------------------------------------------ SGD
def _sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    def step(p, g, state, t):
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            if "b" not in state:
                state["b"] = g.copy()
            else:
                state["b"] = momentum * state["b"] + (1 - dampening) * g
            g = g + momentum * state["b"] if nesterov else state["b"]
        return p - lr * g

    return step


@pytest.mark.parametrize(
    "options",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True},
        {"lr": 0.02, "momentum": 0.9, "weight_decay": 0.1},
        {"lr": 0.02, "momentum": 0.5, "nesterov": True, "weight_decay": 0.01, "maximize": True},
    ],
)
def test_sgd_matches_hand_computed_updates(options):
    _trajectory(lambda p: optim.SGD(p, **options), _sgd_reference(**options))


def test_sgd_first_momentum_step_is_the_plain_gradient():
    # PyTorch initializes the buffer with the gradient itself: no dampening on step 1.
    p = nn.Parameter(mt.zeros(2, dtype=mt.float64))
    opt = optim.SGD([p], lr=1.0, momentum=0.9, dampening=0.5)
    p.grad = mt.tensor([1.0, 2.0], dtype=mt.float64)
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), [-1.0, -2.0])
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), [1.0, 2.0])


def test_sgd_argument_errors():
    params = [nn.Parameter(mt.zeros(1))]
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD(params, lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD(params, momentum=-0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.SGD(params, weight_decay=-0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(params, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(params, momentum=0.9, dampening=0.1, nesterov=True)


# ----------------------------------------------------------------- Adam/AdamW
def _adam_reference(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                    maximize=False, decoupled=False):
    beta1, beta2 = betas

    def step(p, g, state, t):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
        state["m"], state["v"] = m, v
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            state["vmax"] = np.maximum(state.get("vmax", 0.0), v)
            v = state["vmax"]
        v_hat = v / (1 - beta2**t)
        # PyTorch adds eps to sqrt(v_hat), not to sqrt(v): the same thing.
        return p - lr * m_hat / (np.sqrt(v_hat) + eps)

    return step


ADAM_CASES = [
    {},
    {"lr": 0.01, "betas": (0.8, 0.99)},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True, "betas": (0.3, 0.9)},
    {"lr": 0.01, "eps": 1e-3, "maximize": True},
]


@pytest.mark.parametrize("options", ADAM_CASES)
def test_adam_matches_hand_computed_updates(options):
    _trajectory(lambda p: optim.Adam(p, **options), _adam_reference(**options))


@pytest.mark.parametrize("options", ADAM_CASES + [{"lr": 0.05, "weight_decay": 0.5, "amsgrad": True}])
def test_adamw_matches_hand_computed_updates(options):
    options = {"weight_decay": 1e-2, **options}
    _trajectory(lambda p: optim.AdamW(p, **options), _adam_reference(decoupled=True, **options))


def test_adam_first_step_moves_by_lr():
    # With bias correction the first step is lr * g / (|g| + eps') = lr * sign(g).
    p = nn.Parameter(mt.zeros(3, dtype=mt.float64))
    opt = optim.Adam([p], lr=0.1, eps=0.0)
    p.grad = mt.tensor([3.0, -0.5, 1e-3], dtype=mt.float64)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [-0.1, 0.1, -0.1], rtol=1e-12)
    assert opt.state[p]["step"].item() == 1.0
    assert opt.state[p]["step"].dtype == mt.float32 and opt.state[p]["step"].device == "cpu"


def test_adamw_decay_is_decoupled_from_the_gradient():
    # With a zero gradient Adam's moments stay zero, so only the decay moves p.
    p = nn.Parameter(mt.ones(2, dtype=mt.float64))
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = mt.zeros(2, dtype=mt.float64)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.95, 0.95], rtol=1e-15)
    q = nn.Parameter(mt.ones(2, dtype=mt.float64))
    opt = optim.Adam([q], lr=0.1, weight_decay=0.5)
    q.grad = mt.zeros(2, dtype=mt.float64)
    opt.step()  # L2 penalty: g = 0.5 p, normalized by Adam to a step of lr
    np.testing.assert_allclose(q.detach().numpy(), [0.9, 0.9], rtol=1e-7)


def test_adam_argument_errors():
    params = [nn.Parameter(mt.zeros(1))]
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam(params, lr=-1)
    with pytest.raises(ValueError, match="beta parameter at index 0"):
        optim.Adam(params, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.AdamW(params, betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="epsilon"):
        optim.Adam(params, eps=-1)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.AdamW(params, weight_decay=-1)


# ------------------------------------------------------------- Optimizer base
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: optim.Adam(p, lr=0.1, amsgrad=True),
])
def test_updates_stay_on_the_parameters_device_and_dtype(device, make):
    for dtype in (mt.float32, mt.float64):
        p = nn.Parameter(mt.ones(4, dtype=dtype, device=device))
        array = p.array
        opt = make([p])
        p.grad = mt.ones(4, dtype=dtype, device=device)
        opt.step()
        assert p.array is array  # updated in place
        assert p.dtype == dtype and p.device == device
        for value in opt.state[p].values():
            if value.ndim > 0:
                assert value.dtype == dtype and value.device == device


def test_params_without_grad_are_skipped():
    a, b = nn.Parameter(mt.ones(2)), nn.Parameter(mt.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = mt.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    assert b not in opt.state or opt.state[b] == {}


def test_param_groups_have_their_own_options():
    base, head = nn.Linear(2, 2), nn.Linear(2, 1)
    opt = optim.SGD(
        [{"params": base.parameters()}, {"params": head.parameters(), "lr": 0.5}],
        lr=0.01, momentum=0.9,
    )
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.5]
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    extra = nn.Parameter(mt.zeros(3))
    opt.add_param_group({"params": extra, "momentum": 0.0})
    assert len(opt.param_groups[2]["params"]) == 1 and opt.param_groups[2]["params"][0] is extra
    assert opt.param_groups[2]["lr"] == 0.01 and opt.param_groups[2]["momentum"] == 0.0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [extra]})


def test_optimizer_construction_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(nn.Parameter(mt.zeros(1)), lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([nn.Parameter(mt.zeros(1)) * 2], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(1)], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {nn.Parameter(mt.zeros(1))}}], lr=0.1)


def test_zero_grad():
    p = nn.Parameter(mt.ones(2))
    opt = optim.SGD([p], lr=0.1)
    p.grad = mt.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_returns_the_loss():
    p = nn.Parameter(mt.tensor([2.0], dtype=mt.float64))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with mt.no_grad():  # the closure still records: step switches grad mode on
        loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(p.detach().numpy(), [1.0])  # 2 - 0.25 * 4


# ---------------------------------------------------------------- state dicts
def _train(model, opt, batches):
    for x, y in batches:
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()


def _batches(seed, count):
    rng = np.random.default_rng(seed)
    return [
        (mt.tensor(rng.standard_normal((4, 3))), mt.tensor(rng.standard_normal((4, 2))))
        for _ in range(count)
    ]


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    lambda p: optim.AdamW([{"params": p[:1]}, {"params": p[1:], "lr": 0.1}], lr=0.01),
])
def test_state_dict_resume_continues_identically(make, tmp_path):
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2)).double()
    opt = make(list(model.parameters()))
    first, second = _batches(1, 3), _batches(2, 4)
    _train(model, opt, first)

    mt.save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "ck.mtc")
    snapshot = mt.load(tmp_path / "ck.mtc")

    _train(model, opt, second)  # the uninterrupted run

    mt.manual_seed(99)  # a fresh model with different initial values
    resumed = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2)).double()
    resumed_opt = make(list(resumed.parameters()))
    resumed.load_state_dict(snapshot["model"])
    resumed_opt.load_state_dict(snapshot["optim"])
    _train(resumed, resumed_opt, second)

    for a, b in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert resumed_opt.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_state_dict_layout_is_pytorchs():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    opt = optim.SGD([{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 1.0}],
                    lr=0.1, momentum=0.9)
    model(mt.ones(3, 2)).sum().backward()
    opt.step()
    state = opt.state_dict()
    assert sorted(state["state"]) == [0, 1, 2, 3]
    assert list(state["state"][0]) == ["momentum_buffer"]
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2, 3]]
    assert state["param_groups"][1] == {
        "lr": 1.0, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
        "nesterov": False, "maximize": False, "params": [2, 3],
    }


def test_load_state_dict_copies_and_casts_state():
    p = nn.Parameter(mt.ones(2, dtype=mt.float64))
    opt = optim.Adam([p])
    p.grad = mt.ones(2, dtype=mt.float64)
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    q = nn.Parameter(mt.ones(2, dtype=mt.float32))
    other = optim.Adam([q])
    other.load_state_dict(saved)
    assert other.state[q]["exp_avg"].dtype == mt.float32
    assert other.state[q]["step"].dtype == mt.float32  # the counter is left as saved
    assert other.state[q]["exp_avg"].array is not saved["state"][0]["exp_avg"].array


def test_load_state_dict_mismatches_are_errors():
    a = optim.SGD([nn.Parameter(mt.zeros(1)), nn.Parameter(mt.zeros(1))], lr=0.1)
    b = optim.SGD([nn.Parameter(mt.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        b.load_state_dict(a.state_dict())
    c = optim.SGD([{"params": [nn.Parameter(mt.zeros(1))]}, {"params": [nn.Parameter(mt.zeros(1))]}], lr=0.1)
    with pytest.raises(ValueError, match="number of parameter groups"):
        a.load_state_dict(c.state_dict())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        a.load_state_dict({"state": {}})


def test_repr_lists_groups():
    opt = optim.SGD([nn.Parameter(mt.zeros(1))], lr=0.5)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.5\n" in text
    assert math.isclose(opt.defaults["lr"], 0.5)
