"""examples/deformable_sampling.py trains on a slice of the real MNIST, learns, and writes
the sampling points of two deformable layers (and their figure, with matplotlib)."""
import importlib.util
import json

import numpy as np

from minitorch_cv.utils.plotting import matplotlib_available
from tests.conftest import REPO_ROOT


def _load_example():
    path = REPO_ROOT / "examples" / "deformable_sampling.py"
    spec = importlib.util.spec_from_file_location("deformable_sampling", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_deformable_sampling_learns_and_writes_the_points(data_dir, tmp_path):
    example = _load_example()
    accuracy = example.main(["--data-dir", str(data_dir), "--epochs", "1", "--train-limit", "1280",
                             "--test-limit", "200", "--batch-size", "32", "--images", "2",
                             "--out", str(tmp_path)])
    assert accuracy > 0.25  # 40 steps from scratch (38% here); chance is 0.1

    records = json.loads((tmp_path / "sampling_points.json").read_text())
    assert len(records) == 2
    for record in records:
        a, b = record["unit"]
        assert 0 <= a < 7 and 0 <= b < 7
        level1, level2 = np.array(record["level1"]), np.array(record["level2"])
        assert level1.shape == (81, 3) and level2.shape == (9, 3) and np.all(np.isfinite(level1))
        assert np.all((0 < level1[:, 2]) & (level1[:, 2] < 1))  # products of two sigmoids
        # the offsets were learned: the points left the regular grid
        assert np.abs(level1[:, :2] - np.array(record["regular"])).max() > 0.01
    assert (tmp_path / "sampling_points.png").exists() == matplotlib_available()
