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
    ("resnet20", "cifar10", ["--stochastic-depth", "0.1"]),
    ("googlenet", "cifar10", []),  # training-mode outputs with two auxiliary heads
    ("lenet5", "mnist", []),  # 1 channel, padded to 32x32
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
    if arch == "googlenet":
        assert checkpoint["args"]["aux_weight"] == 0.3 and "aux weight 0.3" in result.stdout
    if arch == "lenet5":
        assert "1 channel(s)" in result.stdout


def test_googlenet_outputs_get_the_papers_loss():
    script = load_example("train_classifier")
    model = mt.models.googlenet(num_classes=10)
    model.train()
    rng = np.random.default_rng(0)
    images = mt.tensor(rng.normal(size=(2, 3, 32, 32)).astype(np.float32))
    labels = mt.tensor(np.array([1, 7]))
    outputs = model(images)
    ours = script.ClassificationLoss(aux_weight=0.3)(outputs, labels).item()
    assert ours == pytest.approx(mt.models.googlenet_loss(outputs, labels).item(), rel=1e-6)


def test_zfnet_gets_filter_renormalization_after_each_step_and_its_input_size():
    script = load_example("train_classifier")
    args = script.build_parser().parse_args(["--arch", "zfnet", "--dataset", "cifar10"])
    args.renormalize_filters = script.RENORMALIZE["zfnet"]
    model = mt.nn.Sequential(mt.nn.Conv2d(3, 4, 3))
    with mt.no_grad():
        model[0].weight.mul_(100.0)  # filters of RMS far above 0.1
    script.filter_renormalization(args, model)()
    rms = np.sqrt((model[0].weight.detach().numpy().reshape(4, -1) ** 2).mean(axis=1))
    np.testing.assert_allclose(rms, 0.1, rtol=1e-5)
    transform, _ = script.build_transforms(args, 3)
    assert "Resize(size=(224, 224)" in repr(transform)  # the size its layers need
    args.renormalize_filters = 0.0
    assert script.filter_renormalization(args, model) is None


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
