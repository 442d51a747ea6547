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
    "bench_resnet_step.py": (["--batch-size", "4", "--steps", "1", "--top", "3"], "images per second"),
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
