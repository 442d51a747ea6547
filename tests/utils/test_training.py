"""train_one_epoch / evaluate on a linear model, and stopping on Ctrl-C between steps."""
import os
import signal

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import data, nn, optim
from minitorch_cv.utils import (
    StopOnInterrupt,
    evaluate,
    restore_training_state,
    train_one_epoch,
    training_state,
)


def setup(seed=0, n=40):
    mt.manual_seed(seed)
    features = np.random.default_rng(seed).normal(size=(n, 5)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.int64)
    loader = data.DataLoader(data.TensorDataset(features, labels), batch_size=8, shuffle=True,
                             generator=seed)
    model = nn.Linear(5, 2)
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    return model, loader, optimizer, nn.CrossEntropyLoss()


def test_training_epochs_learn_and_evaluate_reports_the_same_loss():
    model, loader, optimizer, loss_fn = setup()
    first = train_one_epoch(model, loader, optimizer, loss_fn, "cpu")
    assert first.batches == 5 and first.count == 40 and first.seconds > 0
    for _ in range(5):
        last = train_one_epoch(model, loader, optimizer, loss_fn, "cpu")
    assert last.loss < first.loss and last.accuracy > 0.8
    model.train()
    result = evaluate(model, loader, loss_fn, "cpu")
    assert model.training  # mode restored
    with mt.no_grad():
        everything = [(model(x), y) for x, y in loader]
    direct = np.mean([loss_fn(out, y).item() * len(y) for out, y in everything]) * 5 / 40
    assert result.loss == pytest.approx(direct, rel=1e-5)


def test_stop_leaves_the_loader_after_the_last_complete_step():
    model, loader, optimizer, loss_fn = setup()
    steps = []

    def stop_after_two():
        steps.append(1)
        return len(steps) == 2

    metrics = train_one_epoch(model, loader, optimizer, loss_fn, "cpu", stop=stop_after_two)
    assert metrics.batches == 2
    assert loader.state_dict() == {"seed": loader.seed, "epoch": 0, "batch": 2}
    # resuming (as from a checkpoint) finishes the epoch with the remaining three batches
    loader.load_state_dict(loader.state_dict())
    train_one_epoch(model, loader, optimizer, loss_fn, "cpu", metrics=metrics)
    assert metrics.batches == 5 and metrics.count == 40
    assert loader.state_dict()["epoch"] == 1


def test_stopped_evaluation_returns_none():
    model, loader, _, loss_fn = setup()
    assert evaluate(model, loader, loss_fn, "cpu", stop=lambda: True) is None


def test_first_ctrl_c_sets_the_flag_second_raises():
    previous = signal.getsignal(signal.SIGINT)
    with StopOnInterrupt(message=None) as stop:
        assert not stop()
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and stop()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is previous


def test_training_state_resumes_exactly_mid_epoch(tmp_path):
    """Stop after 3 of 5 batches, checkpoint, rebuild everything from scratch, restore,
    finish: the weights equal those of an uninterrupted epoch, bit for bit."""
    def build():
        model, loader, _, loss_fn = setup(seed=1)
        optimizer = optim.SGD(model.parameters(), lr=0.5, momentum=0.9, nesterov=True)
        scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=10)
        return model, loader, optimizer, scheduler, loss_fn

    model, loader, optimizer, scheduler, loss_fn = build()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, loss_fn, "cpu", scheduler=scheduler)
    reference = model.weight.detach().numpy().copy()

    model, loader, optimizer, scheduler, loss_fn = build()
    train_one_epoch(model, loader, optimizer, loss_fn, "cpu", scheduler=scheduler)
    steps = iter(range(3))
    train_one_epoch(model, loader, optimizer, loss_fn, "cpu", scheduler=scheduler,
                    stop=lambda: next(steps) == 2)
    mt.save(training_state(model, optimizer, scheduler, loader, epoch=1), tmp_path / "c.npz")

    model, loader, optimizer, scheduler, loss_fn = build()
    state = mt.load(tmp_path / "c.npz")
    restore_training_state(state, model, optimizer, scheduler, loader)
    assert state["epoch"] == 1 and loader.state_dict()["batch"] == 3
    train_one_epoch(model, loader, optimizer, loss_fn, "cpu", scheduler=scheduler)
    assert scheduler.last_epoch == 10
    np.testing.assert_array_equal(model.weight.detach().numpy(), reference)
