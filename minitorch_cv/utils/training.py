"""The two loops every classification script runs: one training epoch and an evaluation.

    metrics = train_one_epoch(model, train_loader, optimizer, loss_fn, device,
                              scheduler=scheduler, progress=bar, stop=stop)
    test = evaluate(model, test_loader, loss_fn, device)
    print(metrics.loss, metrics.accuracy, test.loss, test.accuracy)

One training step is the usual

    logits = model(images); loss = loss_fn(logits, labels)
    optimizer.zero_grad(); loss.backward(); optimizer.step(); scheduler.step()

(the scheduler, when given, is stepped once per batch: OneCycleLR's convention; give
per-batch schedules). Everything stays on ``device``: the batch is moved there (a no-op
when the loader already delivers it there), the loss and accuracy sums are kept there
(``RunningMetrics``), and values are read back only when the progress bar redraws and
once at the end of the pass.

``stop``: a function checked after every complete step; when it returns True the loop
stops there, so the model, optimizer, scheduler and loader position form a consistent
state that a checkpoint can capture (``StopOnInterrupt`` is such a function).
"""
import time

from ..autograd import no_grad
from .metrics import RunningMetrics


def _never():
    return False


def _close(iterator):
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def train_one_epoch(model, loader, optimizer, loss_fn, device, scheduler=None, metrics=None,
                    progress=None, stop=_never):
    """Train over ``loader`` (from where it stands: a resumed loader continues mid-epoch);
    add to ``metrics`` (a new RunningMetrics when None) and return it."""
    metrics = RunningMetrics() if metrics is None else metrics
    model.train()
    started = time.perf_counter()
    batches = iter(loader)
    try:
        for images, labels in batches:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = loss_fn(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            metrics.update(loss, logits, labels)
            if progress is not None:
                progress.update(1, labels.shape[0], postfix=metrics.summary)
            if stop():
                break
        metrics.loss  # noqa: B018 - reading it waits for the device: the time is complete
    finally:
        _close(batches)
        metrics.seconds += time.perf_counter() - started
    return metrics


def evaluate(model, loader, loss_fn, device, progress=None, stop=_never):
    """Loss and accuracy over ``loader`` in eval mode without recording a graph; returns
    a RunningMetrics, or None when ``stop()`` ended the pass early. The model's
    train/eval mode is restored afterwards."""
    metrics = RunningMetrics()
    was_training = model.training
    model.eval()
    started = time.perf_counter()
    batches = iter(loader)
    try:
        with no_grad():
            for images, labels in batches:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                metrics.update(loss_fn(logits, labels), logits, labels)
                if progress is not None:
                    progress.update(1, labels.shape[0], postfix=metrics.summary)
                if stop():
                    return None
        metrics.loss  # noqa: B018 - wait for the device before stopping the clock
    finally:
        _close(batches)
        model.train(was_training)
        metrics.seconds += time.perf_counter() - started
    return metrics
