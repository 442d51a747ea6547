"""minitorch_cv.metrics: the confusion matrix and the FCN paper's four figures, against
matrices counted and figures computed by hand."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import metrics
from minitorch_cv.utils import SegmentationMetrics
from tests.helpers import DEVICES

# Three classes; 255 is ignored. Targets and predictions of 10 pixels (a 2x5 "image").
TARGET = np.array([[0, 0, 1, 1, 1], [2, 2, 255, 1, 0]])
PREDICTION = np.array([[0, 1, 1, 1, 2], [2, 0, 2, 1, 0]])
# Counted by hand, rows true class, columns predicted (the ignored pixel not counted):
#   class 0 (3 pixels): predicted 0, 1, 0     -> [2, 1, 0]
#   class 1 (4 pixels): predicted 1, 1, 2, 1  -> [0, 3, 1]
#   class 2 (2 pixels): predicted 2, 0        -> [1, 0, 1]
MATRIX = [[2, 1, 0], [0, 3, 1], [1, 0, 1]]
# pixel accuracy (2 + 3 + 1) / 9; class accuracies 2/3, 3/4, 1/2;
# IoU: 0: 2 / (3 + 3 - 2), 1: 3 / (4 + 4 - 3), 2: 1 / (2 + 2 - 1)
IOU = [2 / 4, 3 / 5, 1 / 3]
FIGURES = {
    "pixel_accuracy": 6 / 9,
    "mean_accuracy": (2 / 3 + 3 / 4 + 1 / 2) / 3,
    "mean_iou": sum(IOU) / 3,
    "fw_iou": (3 * IOU[0] + 4 * IOU[1] + 2 * IOU[2]) / 9,
}


@pytest.mark.parametrize("device", DEVICES)
def test_hand_computed_matrix_and_figures(device):
    cm = metrics.ConfusionMatrix(3, ignore_index=255)
    cm.update(mt.tensor(PREDICTION, device=device), mt.tensor(TARGET, device=device))
    assert cm.matrix.tolist() == MATRIX
    figures = cm.compute()
    for name, value in FIGURES.items():
        assert figures[name] == pytest.approx(value, rel=1e-12), name
    assert figures["iou"] == pytest.approx(IOU, rel=1e-12)


def test_streaming_equals_one_update_and_reset():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 5, size=(6, 7, 8))
    prediction = rng.integers(0, 4, size=(6, 7, 8))
    whole = metrics.ConfusionMatrix(4, ignore_index=4)
    whole.update(prediction, target)
    streamed = metrics.ConfusionMatrix(4, ignore_index=4)
    for i in range(6):
        streamed.update(prediction[i], target[i])
    np.testing.assert_array_equal(streamed.matrix, whole.matrix)
    kept = target != 4
    expected = np.zeros((4, 4), np.int64)
    np.add.at(expected, (target[kept], prediction[kept]), 1)
    np.testing.assert_array_equal(whole.matrix, expected)
    whole.reset()
    assert whole.matrix.sum() == 0


def test_undefined_classes_are_left_out_of_the_means():
    # class 2 never occurs and is never predicted; class 1 is predicted but never occurs
    n = np.array([[3, 1, 0], [0, 0, 0], [0, 0, 0]])
    with np.errstate(all="raise"):  # 0 / 0 is NaN without a warning
        assert np.isnan(metrics.class_accuracy(n)[1:]).all()
    iou = metrics.class_iou(n)
    assert iou[0] == pytest.approx(3 / 4) and iou[1] == 0 and math.isnan(iou[2])
    assert metrics.mean_accuracy(n) == pytest.approx(3 / 4)
    assert metrics.mean_iou(n) == pytest.approx((3 / 4 + 0) / 2)
    assert metrics.frequency_weighted_iou(n) == pytest.approx(3 / 4)
    empty = metrics.ConfusionMatrix(2).compute()
    assert all(math.isnan(empty[name]) for name in FIGURES)


def test_state_round_trip_and_bad_input():
    cm = metrics.ConfusionMatrix(3, ignore_index=255)
    cm.update(PREDICTION, TARGET)
    restored = metrics.ConfusionMatrix(3, ignore_index=255)
    restored.load_state_dict(cm.state_dict())
    np.testing.assert_array_equal(restored.matrix, cm.matrix)
    with pytest.raises(ValueError, match="class ids must be in"):
        cm.update(np.array([3]), np.array([0]))
    with pytest.raises(ValueError, match="class ids must be in"):
        cm.update(np.array([0]), np.array([7]))
    with pytest.raises(ValueError, match="shape"):
        cm.update(np.zeros(3, np.int64), np.zeros(4, np.int64))
    with pytest.raises(TypeError, match="integer class ids"):
        cm.update(np.zeros(3), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="num_classes"):
        metrics.ConfusionMatrix(0)


def test_segmentation_metrics_of_a_training_loop():
    """The running loss is per image; the figures are the confusion matrix's."""
    running = SegmentationMetrics(3, ignore_index=255)
    scores = np.zeros((2, 3, 1, 5))
    for n in range(2):
        scores[n, PREDICTION[n], 0, np.arange(5)] = 1.0
    labels = mt.tensor(TARGET[:, None, :].reshape(2, 1, 5))
    running.update(mt.tensor(0.5), {"out": mt.tensor(scores)}, labels)
    running.update(mt.tensor(2.0), mt.tensor(scores), labels)
    assert running.loss == pytest.approx(1.25) and running.count == 4
    assert running.accuracy == pytest.approx(FIGURES["pixel_accuracy"])
    assert running.confusion.matrix.sum() == 18  # 9 counted pixels per update
    restored = SegmentationMetrics(3, ignore_index=255)
    restored.load_state_dict(running.state_dict())
    assert restored.compute() == running.compute() and restored.loss == running.loss
    assert set(running.summary()) == {"loss", "pixel acc", "mIoU"}
