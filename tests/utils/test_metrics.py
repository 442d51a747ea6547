"""RunningMetrics (device-side sums), the atomic JSON writer and the curves."""
import json
import math
import os
import sys

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.utils import RunningMetrics, matplotlib_available, plot_curves, write_json_atomic


def test_running_metrics_sum_over_batches():
    metrics = RunningMetrics()
    logits = mt.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0]])
    metrics.update(mt.tensor(0.5), logits, mt.tensor([0, 1, 1]))  # 2 of 3 right
    metrics.update(mt.tensor(2.0), mt.tensor([[0.0, 1.0]]), mt.tensor([0]))  # wrong
    assert metrics.count == 4 and metrics.batches == 2
    assert metrics.loss == pytest.approx((0.5 * 3 + 2.0 * 1) / 4)
    assert metrics.accuracy == pytest.approx(2 / 4)
    assert metrics.summary() == {"loss": "0.8750", "acc": "50.00%"}
    # the sums stay tensors (on the device of the batch), read only by .loss/.accuracy
    assert isinstance(metrics.loss_sum, mt.Tensor) and isinstance(metrics.correct, mt.Tensor)


def test_running_metrics_state_round_trip(tmp_path):
    metrics = RunningMetrics()
    metrics.update(mt.tensor(1.5), mt.tensor([[1.0, 0.0]]), mt.tensor([0]))
    metrics.seconds = 3.0
    mt.save(metrics.state_dict(), tmp_path / "state.npz")
    restored = RunningMetrics()
    restored.load_state_dict(mt.load(tmp_path / "state.npz"))
    restored.update(mt.tensor(0.5), mt.tensor([[1.0, 0.0]]), mt.tensor([1]))
    assert restored.count == 2 and restored.seconds == 3.0
    assert restored.loss == pytest.approx(1.0) and restored.accuracy == pytest.approx(0.5)


def test_empty_metrics_are_nan():
    assert math.isnan(RunningMetrics().loss) and math.isnan(RunningMetrics().accuracy)


def test_write_json_atomic_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    write_json_atomic(path, [{"epoch": 1, "loss": 1.5}])
    write_json_atomic(path, [{"epoch": 1, "loss": 1.5}, {"epoch": 2, "loss": float("nan")}])
    assert json.loads(path.read_text()) == [{"epoch": 1, "loss": 1.5},
                                            {"epoch": 2, "loss": None}]
    assert os.listdir(tmp_path) == ["metrics.json"]
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # not left private like mkstemp's


def test_write_json_atomic_failure_keeps_the_old_file(tmp_path):
    path = tmp_path / "metrics.json"
    write_json_atomic(path, [1, 2])
    with pytest.raises(TypeError):
        write_json_atomic(path, [object()])
    assert json.loads(path.read_text()) == [1, 2]
    assert os.listdir(tmp_path) == ["metrics.json"]


RECORDS = [{"epoch": e, "train_loss": 2.0 / e, "test_loss": 2.1 / e, "train_acc": 0.3 * e,
            "test_acc": 0.28 * e} for e in (1, 2, 3)]


def test_plot_curves_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    assert not matplotlib_available()
    assert plot_curves(RECORDS, tmp_path / "curves.png") is False
    assert not (tmp_path / "curves.png").exists()


@pytest.mark.skipif(not matplotlib_available(),
                    reason="matplotlib (the 'plot' extra) is not installed")
def test_plot_curves_writes_a_png(tmp_path):
    assert plot_curves(RECORDS, tmp_path / "curves.png", title="resnet20") is True
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_records_values_are_plain_floats():
    metrics = RunningMetrics()
    metrics.update(mt.tensor(0.25), mt.tensor([[1.0, 0.0]]), mt.tensor([0]))
    assert type(metrics.loss) is float and type(metrics.accuracy) is float
    assert np.isfinite(metrics.loss)
