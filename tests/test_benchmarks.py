"""Every benchmark still runs: each script of benchmarks/ once, on small sizes, through a
subprocess, as a user would start it. Speed is not asserted (benchmarks measure, tests
check); what is checked is that the script ends well and prints its table."""
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, find_data_dir

# script -> (small-size arguments, a column header its table prints)
SMOKE_RUNS = {
    "bench_attention.py": (["--repeats", "1", "--batch", "2"], "vs reference"),
    "bench_conv.py": (["--batch", "4", "--repeat", "1"], "fwd ms"),
    "bench_conv_memory.py": (["--batches", "2", "4"], "peak MiB"),
    "bench_cuda_emulation.py": (["--repeat", "1"], "implementation"),
    "bench_deform_conv.py": (["--batch", "1", "--repeat", "1", "--width-divisor", "16"], "peak MiB"),
    "bench_densenet_memory.py": (["--batch-size", "2", "--image-size", "32"], "peak MiB"),
    "bench_classifier_recipes.py": (["--recipes", "mobilenet_v2", "--train-subset", "16",
                                     "--test-subset", "8", "--epochs", "1"], "ours best %"),
    "bench_data.py": (["--repeats", "1"], "ms"),
    "bench_knn.py": (["--synthetic", "--queries", "20", "--train-limit", "300", "--repeat", "1"], "x numpy"),
    "bench_layers.py": (["--repeat", "1"], "fwd+bwd ms"),
    "bench_norm.py": (["--shape", "4", "8", "8", "8", "--repeat", "1"], "ms"),
    "bench_optim.py": ([], "ms"),
    "bench_pool.py": (["--batch", "8", "--repeat", "1"], "fwd ms"),
    "bench_resnet_step.py": (
        ["--batch-size", "4", "--rounds", "1", "--steps", "1", "--no-torch"], "op (ms, one step)"
    ),
    # our side only (the tests never run PyTorch), on a few downscaled ISBI slices
    "bench_segmentation.py": (["--skip-torch", "--train-subset", "2", "--val-subset", "1",
                               "--image-size", "32", "--crop-size", "32", "--repeat", "1",
                               "--epochs", "1", "--batch-size", "2", "--figures", "0",
                               "--model-option", "base_channels=2", "--model-option",
                               "padding=True"], "mIoU"),
    "bench_softmax.py": (["--repeat", "1"], "best ms"),
}


def test_every_benchmark_has_a_smoke_run():
    scripts = sorted(path.name for path in (REPO_ROOT / "benchmarks").glob("bench_*.py"))
    assert scripts == sorted(SMOKE_RUNS)


@pytest.mark.parametrize("script", sorted(SMOKE_RUNS))
def test_benchmark_runs(script, tmp_path):
    arguments, header = SMOKE_RUNS[script]
    if script == "bench_segmentation.py":
        arguments = arguments + ["--out", str(tmp_path)]
    if script in ("bench_data.py", "bench_classifier_recipes.py", "bench_segmentation.py"):
        data_dir = find_data_dir()
        if data_dir is None:
            pytest.skip("no data directory: set MINITORCH_CV_DATA or put the data in ../shared/data")
        arguments = arguments + ["--data-dir", str(data_dir)]
    # PYTHONPATH: the subprocess imports this checkout's minitorch_cv, whatever is installed
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    environment = dict(os.environ, PYTHONPATH=path)
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / script), *arguments],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert header in result.stdout, result.stdout[-3000:]


def test_check_thread_pools_asks_for_pytorch_when_it_is_missing():
    """benchmarks/check_thread_pools.py compares two frameworks in one process: without
    PyTorch it stops at once with a message that says how to get a PyTorch venv."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("PyTorch is installed here: the check would run for minutes")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "check_thread_pools.py")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0 and "needs PyTorch" in result.stderr


def test_bench_resnet_step_before_column(tmp_path):
    """--save writes our figures, --before reads them back as the table's first column
    (the lead's before/after table: the first run is meant for an older checkout)."""
    script = str(REPO_ROOT / "benchmarks" / "bench_resnet_step.py")
    small = ["--batch-size", "2", "--rounds", "1", "--steps", "1", "--no-torch", "--threads", "1"]
    environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    saved = tmp_path / "before.json"
    for extra in (["--save", str(saved)], ["--before", str(saved)]):
        result = subprocess.run([sys.executable, script, *small, *extra], cwd=REPO_ROOT,
                                env=environment, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    header = next(line for line in result.stdout.splitlines() if line.startswith("op (ms"))
    assert header.split()[-2:] == ["before", "ours"]
    assert "median step" in result.stdout
