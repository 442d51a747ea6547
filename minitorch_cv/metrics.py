"""Confusion-matrix metrics for classification and semantic segmentation.

    cm = ConfusionMatrix(num_classes=11, ignore_index=11)
    for images, labels in loader:
        cm.update(model(images).argmax(1), labels)      # any shape: pixels or samples
    cm.compute()   # {"pixel_accuracy", "mean_accuracy", "mean_iou", "fw_iou", "iou"}

The matrix n (K x K) counts n[i, j] = the pixels of true class i predicted as class j;
pixels whose target is ``ignore_index`` are not counted. With t_i = sum_j n[i, j] the
pixels of class i, the four figures of the FCN paper (Long et al. 2015, section 5):

    pixel accuracy           sum_i n_ii / sum_i t_i
    mean (class) accuracy    (1 / K) sum_i n_ii / t_i
    mean IoU                 (1 / K) sum_i n_ii / (t_i + sum_j n_ji - n_ii)
    frequency weighted IoU   (sum_k t_k)^-1 sum_i t_i n_ii / (t_i + sum_j n_ji - n_ii)

A class that never occurs in the targets has no accuracy (0 / 0), and one that neither
occurs nor is predicted has no IoU; the means run over the classes where they are
defined (the FCN authors' score.py: NumPy's nanmean), so K is the number of those.
A class that is predicted but never occurs has IoU 0 and counts in the mean IoU.

The matrix stays on the device of the first update (an int64 array on the GPU for GPU
tensors): ``update`` reads nothing back, so a training loop pays for no transfer until
the figures are asked for. Each update is one ``bincount`` of target * K + prediction.

(``utils.metrics.RunningMetrics`` and ``SegmentationMetrics`` keep a training loop's
running loss beside these figures; the figures themselves are defined only here.)
"""
import numbers

import numpy as np

from .devices import namespace, to_device
from .tensor import Tensor


def _array(values, name):
    array = values.array if isinstance(values, Tensor) else values
    if not hasattr(array, "dtype") or array.dtype.kind not in "iub":
        raise TypeError(
            f"{name}: expected integer class ids (a Tensor or an array), got "
            f"{getattr(array, 'dtype', type(array).__name__)}"
        )
    return array


class ConfusionMatrix:
    """A streaming K x K confusion matrix; see the module docstring."""

    def __init__(self, num_classes, ignore_index=None):
        if not isinstance(num_classes, numbers.Integral) or num_classes < 1:
            raise ValueError(f"num_classes: expected a positive int, got {num_classes!r}")
        if ignore_index is not None and not isinstance(ignore_index, numbers.Integral):
            raise TypeError(f"ignore_index: expected an int or None, got {ignore_index!r}")
        self.num_classes = int(num_classes)
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self._counts = None  # a flat (K * K,) int64 array on the device of the updates

    def reset(self):
        self._counts = None

    def update(self, prediction, target):
        """Count the pairs (target, prediction): integer arrays or Tensors of one shape,
        predictions in [0, K), targets in [0, K) or ``ignore_index``."""
        prediction = _array(prediction, "prediction")
        target = _array(target, "target")
        if prediction.shape != target.shape:
            raise ValueError(f"prediction: shape {prediction.shape} differs from the target's "
                             f"{target.shape}")
        xp = namespace(target)
        K = self.num_classes
        prediction = prediction.reshape(-1).astype(xp.int64)
        target = target.reshape(-1).astype(xp.int64)
        if self.ignore_index is not None:
            kept = target != self.ignore_index
            prediction, target = prediction[kept], target[kept]
        out_of_range = (target < 0) | (target >= K) | (prediction < 0) | (prediction >= K)
        if bool(out_of_range.any()):
            raise ValueError(
                f"target, prediction: class ids must be in [0, {K})"
                + (f" (targets may also be ignore_index={self.ignore_index})"
                   if self.ignore_index is not None else "")
            )
        counts = xp.bincount(target * K + prediction, minlength=K * K)
        # (xp.asarray: counts restored from a checkpoint are NumPy; the updates may be CuPy)
        self._counts = counts if self._counts is None else xp.asarray(self._counts) + counts

    @property
    def matrix(self):
        """The counts as a NumPy int64 array (K, K): rows true class, columns predicted."""
        if self._counts is None:
            return np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        return to_device(self._counts, "cpu").reshape(self.num_classes, self.num_classes)

    def compute(self):
        """The four figures and the per-class IoU (a list, NaN where undefined)."""
        n = self.matrix.astype(np.float64)
        return {
            "pixel_accuracy": pixel_accuracy(n),
            "mean_accuracy": mean_accuracy(n),
            "mean_iou": mean_iou(n),
            "fw_iou": frequency_weighted_iou(n),
            "iou": class_iou(n).tolist(),
        }

    def state_dict(self):
        return {"num_classes": self.num_classes, "ignore_index": self.ignore_index,
                "matrix": self.matrix}

    def load_state_dict(self, state):
        matrix = np.asarray(state["matrix"], dtype=np.int64)
        if matrix.shape != (self.num_classes, self.num_classes):
            raise ValueError(f"state['matrix']: expected shape ({self.num_classes}, "
                             f"{self.num_classes}), got {matrix.shape}")
        self._counts = matrix.reshape(-1).copy()

    def __repr__(self):
        return f"ConfusionMatrix(num_classes={self.num_classes}, ignore_index={self.ignore_index})"


# --------------------------------------------------- the figures, from a matrix n
def _divide(numerator, denominator):
    """numerator / denominator, NaN where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1),
                        np.nan)


def _nanmean(values):
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float("nan")


def pixel_accuracy(n):
    """sum_i n_ii / sum_ij n_ij (NaN for an empty matrix)."""
    n = np.asarray(n, dtype=np.float64)
    return float(_divide(np.trace(n), n.sum()))


def class_accuracy(n):
    """n_ii / t_i per class (the recall), NaN where t_i = 0."""
    n = np.asarray(n, dtype=np.float64)
    return _divide(np.diag(n), n.sum(axis=1))


def mean_accuracy(n):
    return _nanmean(class_accuracy(n))


def class_iou(n):
    """n_ii / (t_i + sum_j n_ji - n_ii) per class, NaN where the class neither occurs
    nor is predicted."""
    n = np.asarray(n, dtype=np.float64)
    diagonal = np.diag(n)
    return _divide(diagonal, n.sum(axis=1) + n.sum(axis=0) - diagonal)


def mean_iou(n):
    return _nanmean(class_iou(n))


def frequency_weighted_iou(n):
    """sum_i (t_i / sum_k t_k) IoU_i over the classes that occur (NaN if none does)."""
    n = np.asarray(n, dtype=np.float64)
    frequency = n.sum(axis=1)
    total = frequency.sum()
    if total == 0:
        return float("nan")
    present = frequency > 0
    return float((frequency[present] / total * class_iou(n)[present]).sum())
