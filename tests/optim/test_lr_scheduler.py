"""Learning-rate schedulers: sequences against their closed forms, OneCycleLR phases and
momentum cycling, resuming from a state_dict, bad arguments."""
import math

import pytest

import minitorch_cv as mt
from minitorch_cv import nn, optim
from minitorch_cv.optim import lr_scheduler as S

BASE_LRS = (0.1, 0.03)


def _optimizer(kind="sgd"):
    a, b = nn.Parameter(mt.zeros(2)), nn.Parameter(mt.zeros(2))
    groups = [{"params": [a]}, {"params": [b], "lr": BASE_LRS[1]}]
    if kind == "sgd":
        return optim.SGD(groups, lr=BASE_LRS[0], momentum=0.9)
    return optim.Adam(groups, lr=BASE_LRS[0])


def _run(scheduler, steps):
    """The lr of each group after construction and after each of ``steps`` steps."""
    lrs = []
    for _ in range(steps):
        lrs.append(scheduler.get_last_lr())
        assert scheduler.get_last_lr() == [g["lr"] for g in scheduler.optimizer.param_groups]
        scheduler.optimizer.step()
        scheduler.step()
    return lrs


def _check(lrs, closed_form):
    for epoch, values in enumerate(lrs):
        for base_lr, value in zip(BASE_LRS, values):
            assert value == pytest.approx(closed_form(base_lr, epoch), rel=1e-12, abs=1e-15), epoch


def test_construction_performs_the_initial_step():
    opt = _optimizer()
    scheduler = S.StepLR(opt, step_size=2)
    assert scheduler.last_epoch == 0 and scheduler._step_count == 1
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS)
    assert scheduler.base_lrs == list(BASE_LRS)


def test_step_lr():
    _check(_run(S.StepLR(_optimizer(), step_size=3, gamma=0.5), 12),
           lambda lr, e: lr * 0.5 ** (e // 3))


def test_multi_step_lr_with_repeated_milestone():
    milestones = [2, 5, 5, 9]
    _check(_run(S.MultiStepLR(_optimizer(), milestones, gamma=0.3), 12),
           lambda lr, e: lr * 0.3 ** sum(m <= e for m in milestones))


def test_exponential_lr():
    _check(_run(S.ExponentialLR(_optimizer(), gamma=0.9), 10), lambda lr, e: lr * 0.9**e)


@pytest.mark.parametrize("start, end, total", [(0.1, 1.0, 6), (1.0, 0.2, 4), (1 / 3, 1.0, 5)])
def test_linear_lr(start, end, total):
    _check(_run(S.LinearLR(_optimizer(), start, end, total), 10),
           lambda lr, e: lr * (start + (end - start) * min(e, total) / total))


@pytest.mark.parametrize("eta_min", [0.0, 0.001])
def test_cosine_annealing_lr_including_past_t_max(eta_min):
    T = 7
    _check(_run(S.CosineAnnealingLR(_optimizer(), T_max=T, eta_min=eta_min), 3 * T),
           lambda lr, e: eta_min + (lr - eta_min) * (1 + math.cos(math.pi * e / T)) / 2)


def test_lambda_lr_per_group():
    scheduler = S.LambdaLR(_optimizer(), [lambda e: 0.95**e, lambda e: 1 / (e + 1)])
    lrs = _run(scheduler, 8)
    for e, (a, b) in enumerate(lrs):
        assert a == pytest.approx(BASE_LRS[0] * 0.95**e, rel=1e-12)
        assert b == pytest.approx(BASE_LRS[1] / (e + 1), rel=1e-12)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        S.LambdaLR(_optimizer(), [lambda e: 1.0])


def _one_cycle_closed_form(step, total, pct, start, peak, low, strategy, three_phase):
    """PyTorch's documented phases, written out independently."""
    def anneal(a, b, frac):
        if strategy == "cos":
            return b + (a - b) * (1 + math.cos(math.pi * frac)) / 2
        return a + (b - a) * frac

    up_end = pct * total - 1
    if three_phase:
        down_end = 2 * pct * total - 2
        if step <= up_end:
            return anneal(start, peak, step / up_end)
        if step <= down_end:
            return anneal(peak, start, (step - up_end) / (down_end - up_end))
        return anneal(start, low, (step - down_end) / (total - 1 - down_end))
    if step <= up_end:
        return anneal(start, peak, step / up_end)
    return anneal(peak, low, (step - up_end) / (total - 1 - up_end))


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("strategy, three_phase", [("cos", False), ("linear", False), ("cos", True)])
def test_one_cycle_lr_and_momentum(kind, strategy, three_phase):
    total, pct, max_lrs = 20, 0.3, (1.0, 0.4)
    opt = _optimizer(kind)
    scheduler = S.OneCycleLR(opt, max_lr=list(max_lrs), total_steps=total, pct_start=pct,
                             anneal_strategy=strategy, three_phase=three_phase,
                             div_factor=25.0, final_div_factor=1e4)
    for step in range(total):
        for group, max_lr in zip(opt.param_groups, max_lrs):
            start, low = max_lr / 25.0, max_lr / 25.0 / 1e4
            expected_lr = _one_cycle_closed_form(step, total, pct, start, max_lr, low, strategy, three_phase)
            # momentum moves between 0.95 and 0.85, opposite to the lr
            expected_momentum = _one_cycle_closed_form(step, total, pct, 0.95, 0.85, 0.95, strategy, three_phase)
            assert group["lr"] == pytest.approx(expected_lr, rel=1e-12)
            momentum = group["betas"][0] if kind == "adam" else group["momentum"]
            assert momentum == pytest.approx(expected_momentum, rel=1e-12)
            if kind == "adam":
                assert group["betas"][1] == 0.999
        opt.step()
        if step < total - 1:
            scheduler.step()
    # the schedule starts at max_lr / div_factor, peaks at max_lr, ends at the minimum
    assert S.OneCycleLR(_optimizer(), max_lr=1.0, total_steps=10).get_last_lr()[0] == pytest.approx(0.04)
    scheduler.step()  # step 20 = total_steps is still allowed, as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        scheduler.step()


def test_one_cycle_lr_epochs_and_errors():
    scheduler = S.OneCycleLR(_optimizer(), max_lr=0.5, epochs=3, steps_per_epoch=4)
    assert scheduler.total_steps == 12
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(_optimizer(), max_lr=0.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.OneCycleLR(_optimizer(), max_lr=0.5, total_steps=5, anneal_strategy="step")
    with pytest.raises(ValueError, match="pct_start"):
        S.OneCycleLR(_optimizer(), max_lr=0.5, total_steps=5, pct_start=1.5)
    no_momentum = optim.Optimizer([nn.Parameter(mt.zeros(1))], {"lr": 0.1})
    with pytest.raises(ValueError, match="momentum or beta1"):
        S.OneCycleLR(no_momentum, max_lr=0.5, total_steps=5)
    S.OneCycleLR(no_momentum, max_lr=0.5, total_steps=5, cycle_momentum=False)


def test_sequential_lr_warmup_then_cosine():
    opt = _optimizer()
    warmup = S.LinearLR(opt, start_factor=0.1, total_iters=3)
    cosine = S.CosineAnnealingLR(opt, T_max=10)
    scheduler = S.SequentialLR(opt, [warmup, cosine], milestones=[3])

    def closed_form(lr, e):
        if e < 3:
            return lr * (0.1 + 0.9 * e / 3)
        return lr * (1 + math.cos(math.pi * (e - 3) / 10)) / 2

    _check(_run(scheduler, 14), closed_form)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        S.SequentialLR(opt, [warmup, cosine], milestones=[3, 4])


@pytest.mark.parametrize("make", [
    lambda o: S.StepLR(o, 3, 0.5),
    lambda o: S.MultiStepLR(o, [2, 4, 4], 0.5),
    lambda o: S.CosineAnnealingLR(o, 5),
    lambda o: S.OneCycleLR(o, 1.0, total_steps=12),
    lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.2, total_iters=2), S.ExponentialLR(o, 0.8)], [2]),
])
def test_resume_from_a_checkpoint_continues_the_sequence(make, tmp_path):
    opt = _optimizer()
    scheduler = make(opt)
    _run(scheduler, 4)
    mt.save({"optim": opt.state_dict(), "sched": scheduler.state_dict()}, tmp_path / "s.mtc")
    expected = _run(scheduler, 6)

    checkpoint = mt.load(tmp_path / "s.mtc")
    opt2 = _optimizer()
    scheduler2 = make(opt2)
    opt2.load_state_dict(checkpoint["optim"])
    scheduler2.load_state_dict(checkpoint["sched"])
    assert _run(scheduler2, 6) == expected


def test_lambda_lr_state_dict_skips_functions():
    class Warmup:
        def __init__(self):
            self.length = 3

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.length)

    scheduler = S.LambdaLR(_optimizer(), [Warmup(), lambda e: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"length": 3}, None]
    state["lr_lambdas"][0]["length"] = 5
    scheduler.load_state_dict(state)
    assert scheduler.lr_lambdas[0].length == 5


def test_scheduler_errors():
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR("sgd", 3)
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_optimizer(), 3, last_epoch=5)
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(_optimizer(), 0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        S.LinearLR(_optimizer(), start_factor=0)
