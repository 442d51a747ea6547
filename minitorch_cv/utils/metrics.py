"""Training metrics: running sums kept on the device, and a JSON log written atomically.

``RunningMetrics`` sums the loss and the number of correct predictions of an epoch
without reading anything back from the device per batch:

    loss_sum += loss.detach() * n        (the loss is a batch mean)
    correct  += (logits.argmax(1) == labels).sum()

both stay Tensors on the model's device; ``loss``/``accuracy`` read them (one
synchronization on the GPU) only when asked: when the progress bar redraws and at the
end of the epoch. ``state_dict()`` lets a checkpoint taken in the middle of an epoch
carry the partial sums, so a resumed epoch reports the same numbers as an uninterrupted
one.

``SegmentationMetrics`` does the same for label maps: the loss per image and a
``metrics.ConfusionMatrix`` of the pixels (kept on the device too), from which it reads
the pixel accuracy and the mean IoU (the formulas live in ``minitorch_cv.metrics``).

``write_json_atomic(path, obj)`` writes to a temporary file in the same folder and
renames it over ``path`` (``os.replace``, through ``serialization.files.atomic_write``),
so a reader (or a crash) never sees a half-written file. NaN and infinities (a diverged
loss) are written as ``null``: JSON has no spelling for them.
"""
import json
import math
import os

from ..autograd import no_grad
from ..metrics import ConfusionMatrix
from ..serialization.files import atomic_write
from ..tensor import Tensor


class RunningMetrics:
    """Sums over the batches of one pass: loss * batch size, correct predictions,
    samples, batches, seconds."""

    def __init__(self):
        self.loss_sum = 0.0  # becomes a device Tensor at the first batch
        self.correct = 0
        self.count = 0
        self.batches = 0
        self.seconds = 0.0

    def update(self, loss, logits, labels):
        """Add one batch: ``loss`` its mean loss (a scalar Tensor), ``logits`` (N, classes)
        or a model's tuple of outputs whose first is the logits (GoogLeNet's and
        Inception v3's auxiliary classifiers in training mode), ``labels`` (N,). Nothing
        is read back from the device."""
        if isinstance(logits, tuple):
            logits = logits[0]
        n = labels.shape[0]
        with no_grad():
            self.loss_sum = self.loss_sum + loss.detach().double() * n
            self.correct = self.correct + (logits.detach().argmax(dim=1) == labels).sum()
        self.count += n
        self.batches += 1

    @property
    def loss(self):
        """Mean loss per sample so far (reads the device)."""
        return _value(self.loss_sum) / self.count if self.count else float("nan")

    @property
    def accuracy(self):
        """Fraction of correct predictions so far, in [0, 1] (reads the device)."""
        return _value(self.correct) / self.count if self.count else float("nan")

    def summary(self):
        """{"loss": ..., "acc": ...} formatted for a progress bar."""
        return {"loss": f"{self.loss:.4f}", "acc": f"{self.accuracy * 100:.2f}%"}

    def state_dict(self):
        return {"loss_sum": self.loss_sum, "correct": self.correct, "count": self.count,
                "batches": self.batches, "seconds": self.seconds}

    def load_state_dict(self, state):
        self.loss_sum = state["loss_sum"]
        self.correct = state["correct"]
        self.count = int(state["count"])
        self.batches = int(state["batches"])
        self.seconds = float(state["seconds"])


class SegmentationMetrics(RunningMetrics):
    """Sums over one pass of a segmentation model: loss * images, the pixels' confusion
    matrix (``num_classes``, targets equal to ``ignore_index`` not counted), images,
    batches, seconds. ``accuracy`` is the pixel accuracy; ``compute()`` gives every
    figure of ``ConfusionMatrix.compute``."""

    def __init__(self, num_classes, ignore_index=None):
        super().__init__()
        self.confusion = ConfusionMatrix(num_classes, ignore_index)

    def update(self, loss, output, labels):
        """Add one batch: ``loss`` its mean loss, ``output`` the score map (N, K, H, W)
        or a dict whose "out" is, ``labels`` (N, H, W)."""
        scores = output["out"] if isinstance(output, dict) else output
        n = labels.shape[0]
        with no_grad():
            self.loss_sum = self.loss_sum + loss.detach().double() * n
            self.confusion.update(scores.detach().argmax(dim=1), labels)
        self.count += n
        self.batches += 1

    @property
    def accuracy(self):
        """The pixel accuracy so far (reads the device)."""
        return self.confusion.compute()["pixel_accuracy"]

    def compute(self):
        return self.confusion.compute()

    def summary(self):
        """{"loss", "pixel acc", "mIoU"} formatted for a progress bar."""
        figures = self.confusion.compute()
        return {"loss": f"{self.loss:.4f}", "pixel acc": f"{figures['pixel_accuracy'] * 100:.2f}%",
                "mIoU": f"{figures['mean_iou'] * 100:.2f}%"}

    def state_dict(self):
        state = super().state_dict()
        state.pop("correct")
        state["confusion"] = self.confusion.matrix
        return state

    def load_state_dict(self, state):
        self.loss_sum = state["loss_sum"]
        self.count = int(state["count"])
        self.batches = int(state["batches"])
        self.seconds = float(state["seconds"])
        self.confusion.load_state_dict({"matrix": state["confusion"]})


def _value(x):
    return x.item() if isinstance(x, Tensor) else x


def _json_safe(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {key: _json_safe(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(value) for value in obj]
    return obj


def write_json_atomic(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically (see the module docstring):
    through the checkpoints' ``atomic_write``, which also removes what killed writes
    left behind."""
    text = json.dumps(_json_safe(obj), indent=2, allow_nan=False) + "\n"
    with atomic_write(os.fspath(path)) as file:
        file.write(text.encode("utf-8"))
