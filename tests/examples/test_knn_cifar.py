"""examples/knn_cifar.py end to end on a few hundred real images, through a subprocess as
a user runs it: the table, the chosen k, the test accuracy, the plot and the JSON file.
The runs check the plumbing; the accuracies of the full run are in the README of the
example's docstring and the closing note of issue #18."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "examples" / "knn_cifar.py"


def test_knn_example_writes_its_table_plot_and_results(data_dir, tmp_path):
    if not (data_dir / "cifar-10-subset-python.tar.gz").is_file() or not (data_dir / "mnist").is_dir():
        pytest.skip("the CIFAR-10 subset or MNIST is not in the data directory")
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    environment = dict(os.environ, PYTHONPATH=path, OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    arguments = ["--data-dir", str(data_dir), "--out", str(tmp_path), "--ks", "1", "3", "20",
                 "--train-images", "300", "--test-images", "50", "--mnist-cv-images", "200",
                 "--mnist-test-images", "50"]
    result = subprocess.run([sys.executable, str(SCRIPT), *arguments], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "CIFAR-10 subset" in result.stdout and "MNIST" in result.stdout
    assert "L1 (Manhattan): chose k =" in result.stdout and "* = the chosen k" in result.stdout

    results = json.loads((tmp_path / "knn_results.json").read_text())
    assert set(results) == {"cifar", "mnist"}
    for record in results.values():
        assert record["ks"] == [1, 3, 20] and record["test_images"] == 50
        for metric in record["metrics"].values():
            assert metric["best_k"] in (1, 3, 20) and 0 <= metric["test_accuracy"] <= 1
            assert len(metric["cv_mean"]) == 3
    # Even 200-300 images beat chance (10%) by far on MNIST.
    assert results["mnist"]["metrics"]["p=2"]["test_accuracy"] > 0.5
    assert results["mnist"]["cv_images"] == 200 and results["cifar"]["train_images"] == 300
    plots = [tmp_path / "knn_cifar.png", tmp_path / "knn_mnist.png"]
    if importlib.util.find_spec("matplotlib") is None:  # the plot extra is optional
        assert "(no plot: pip install matplotlib)" in result.stdout
        assert not any(plot.exists() for plot in plots)
    else:
        assert all(plot.stat().st_size > 0 for plot in plots)
