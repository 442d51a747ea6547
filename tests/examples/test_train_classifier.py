"""examples/train_classifier.py, train_minimal.py and finetune.py on a few real images
(subprocesses, one BLAS/Numba thread, tiny subsets: the plumbing, not the accuracy)."""
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

import minitorch_cv as mt
from tests.conftest import REPO_ROOT
from tests.examples.test_train_resnet_cifar import environment

EXAMPLES = REPO_ROOT / "examples"
TINY = ["--train-subset", "24", "--test-subset", "8", "--batch-size", "8", "--epochs", "1"]


def run_example(name, args, cwd):
    return subprocess.run([sys.executable, str(EXAMPLES / name)] + [str(a) for a in args],
                          cwd=cwd, env=environment(), capture_output=True, text=True, timeout=600)


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cifar(data_dir):
    path = data_dir / "cifar-10-subset-python.tar.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.mark.parametrize("arch, dataset, extra", [
    ("resnet20", "cifar10", []),
    ("mobilenet_v2", "mnist", ["--image-size", "32"]),  # gray repeated to 3 channels, resized
    ("vit_ti_16", "cifar10", ["--optimizer", "adamw", "--lr", "1e-3", "--patch-size", "8"]),
])
def test_classifier_trains_any_architecture(arch, dataset, extra, cifar, data_dir, tmp_path):
    source = cifar if dataset == "cifar10" else data_dir
    out = tmp_path / "run"
    result = run_example("train_classifier.py", TINY + extra + [
        "--arch", arch, "--dataset", dataset, "--data-dir", source, "--out", out], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((out / "metrics.json").read_text())
    assert [row["epoch"] for row in rows] == [1] and 0 <= rows[0]["test_acc"] <= 1
    checkpoint = mt.load(out / "checkpoint.npz")
    assert checkpoint["format"] == "train_classifier" and checkpoint["args"]["arch"] == arch
    assert "epoch 1/1  train loss" in result.stdout and "best test accuracy" in result.stdout


def test_auxiliary_losses_are_weighted_into_the_loss():
    script = load_example("train_classifier")
    loss = script.ClassificationLoss(aux_weight=0.3)
    rng = np.random.default_rng(0)
    logits, aux2, aux1 = (mt.tensor(rng.normal(size=(4, 10)).astype(np.float32)) for _ in range(3))
    labels = mt.tensor(np.array([0, 3, 9, 1]))
    ce = mt.nn.CrossEntropyLoss()
    expected = ce(logits, labels).item() + 0.3 * (ce(aux2, labels).item() + ce(aux1, labels).item())
    assert loss((logits, aux2, aux1), labels).item() == pytest.approx(expected, rel=1e-6)
    assert loss(logits, labels).item() == pytest.approx(ce(logits, labels).item())
    assert script.AUX_WEIGHTS == {"googlenet": 0.3, "inception_v3": 0.4}


def test_classifier_refusals(tmp_path, capsys):
    script = load_example("train_classifier")
    assert script.main(["--amp", "--out", tmp_path / "a"]) == 2
    assert "mixed precision is not implemented" in capsys.readouterr().err
    assert script.main(["--arch", "resnet20", "--in-channels", "1", "--data-dir", "x",
                        "--out", tmp_path / "b"]) == 2
    error = capsys.readouterr().err
    assert "not found" in error or "takes 3-channel" in error
    with pytest.raises(SystemExit):
        script.main(["--lr", "inf"])


def test_minimal_example_runs(data_dir, tmp_path):
    result = run_example("train_minimal.py", ["--data-dir", data_dir, "--train-subset", "128",
                                              "--test-subset", "100"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "epoch 1: test accuracy" in result.stdout
    lines = (EXAMPLES / "train_minimal.py").read_text().splitlines()
    assert len(lines) < 100


def test_finetune_from_a_classifier_checkpoint(data_dir, tmp_path):
    source = tmp_path / "pre"
    result = run_example("train_classifier.py", TINY + [
        "--arch", "resnet20", "--dataset", "mnist", "--data-dir", data_dir, "--out", source],
        tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "fine"
    result = run_example("finetune.py", TINY + [
        "--weights", source / "checkpoint.npz", "--arch", "resnet20", "--num-classes", "10",
        "--dataset", "fashion-mnist", "--data-dir", data_dir, "--freeze", "--out", out], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "new head fc (10 classes), 650 trainable parameters, frozen backbone" in result.stdout
    pre = mt.load(source / "checkpoint.npz")["model"]
    fine = mt.load(out / "checkpoint.npz")["model"]
    for key, value in pre.items():  # the frozen backbone did not move (BN statistics neither)
        if not key.startswith("fc."):
            np.testing.assert_array_equal(fine[f"model.{key}"].numpy(), value.numpy(), err_msg=key)
