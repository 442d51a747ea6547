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

A batch may carry more than labels: every field after the images goes to the loss,
``loss_fn(output, labels, *extra)`` (a segmentation batch holds label maps and, for
U-Net, per-pixel weights), and ``metrics.update(loss, output, labels)`` sees the labels.
Both loops take a ``metrics`` object (``SegmentationMetrics`` for label maps).

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
                    progress=None, stop=_never, after_step=None):
    """Train over ``loader`` (from where it stands: a resumed loader continues mid-epoch);
    add to ``metrics`` (a new RunningMetrics when None) and return it. ``after_step()``,
    when given, runs after every optimizer step (ZFNet's filter renormalization)."""
    metrics = RunningMetrics() if metrics is None else metrics
    model.train()
    started = time.perf_counter()
    batches = iter(loader)
    try:
        for images, *targets in batches:
            images, targets = images.to(device), [target.to(device) for target in targets]
            labels = targets[0]
            logits = model(images)
            loss = loss_fn(logits, *targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step()
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


def evaluate(model, loader, loss_fn, device, progress=None, stop=_never, metrics=None):
    """Loss and accuracy over ``loader`` in eval mode without recording a graph; adds to
    ``metrics`` (a new RunningMetrics when None) and returns it, or None when ``stop()``
    ended the pass early. The model's train/eval mode is restored afterwards."""
    metrics = RunningMetrics() if metrics is None else metrics
    was_training = model.training
    model.eval()
    started = time.perf_counter()
    batches = iter(loader)
    try:
        with no_grad():
            for images, *targets in batches:
                images, targets = images.to(device), [target.to(device) for target in targets]
                labels = targets[0]
                logits = model(images)
                metrics.update(loss_fn(logits, *targets), logits, labels)
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
