"""examples/train_segmentation.py end to end on a few real ISBI 2012 and CamVid images:
its files and figure, Ctrl-C and --resume, its recipes and its error messages.

The runs are tiny (slices downscaled to 64x64, a U-Net of base width 2) so that each
takes seconds; they check the plumbing, not the accuracy (README: the real recipes).
"""
import importlib.util
import json
import re
import shlex
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import minitorch_cv as mt
from tests.conftest import REPO_ROOT
from tests.examples.test_train_resnet_cifar import environment, without_times

SCRIPT = REPO_ROOT / "examples" / "train_segmentation.py"
TINY = ["--dataset", "isbi2012", "--train-subset", "8", "--val-subset", "2", "--image-size", "64",
        "--crop-size", "48", "--batch-size", "2", "--repeat", "1", "--model-option", "base_channels=2",
        "--model-option", "padding=True", "--figures", "2"]
RECORD_FIELDS = {"epoch", "train_loss", "train_acc", "train_miou", "val_loss", "val_acc",
                 "val_mean_acc", "val_miou", "val_fw_iou", "val_iou", "seconds",
                 "images_per_second", "lr"}


def run_script(args, cwd):
    return subprocess.run([sys.executable, str(SCRIPT)] + [str(a) for a in args], cwd=cwd,
                          env=environment(), capture_output=True, text=True, timeout=600)


def records(out):
    return json.loads((out / "metrics.json").read_text())


def load_script():
    spec = importlib.util.spec_from_file_location("train_segmentation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def isbi_dir(data_dir):
    if not (data_dir / "isbi2012-em.tar.gz").is_file():
        pytest.skip(f"isbi2012-em.tar.gz is not in {data_dir}")
    return data_dir


@pytest.fixture(scope="module")
def straight_run(isbi_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    result = run_script(TINY + ["--data-dir", isbi_dir, "--epochs", 2, "--out", out], out)
    assert result.returncode == 0, result.stderr
    return out, result


def test_run_writes_metrics_checkpoint_and_the_prediction_figure(straight_run):
    out, result = straight_run
    rows = records(out)
    assert [row["epoch"] for row in rows] == [1, 2]
    for row in rows:
        assert set(row) == RECORD_FIELDS
        assert 0 <= row["val_acc"] <= 1 and 0 <= row["val_miou"] <= 1
        assert len(row["val_iou"]) == 2 and row["train_loss"] > 0
    checkpoint = mt.load(out / "checkpoint.npz")
    assert checkpoint["format"] == "train_segmentation" and checkpoint["epoch"] == 2
    assert checkpoint["best_miou"] == max(row["val_miou"] for row in rows)
    assert "encoders.0.0.weight" in checkpoint["model"]
    assert "epoch 1/2  train loss" in result.stdout and "mIoU" in result.stdout
    assert "best validation mIoU" in result.stdout and "predictions.png" in result.stdout
    assert "weight maps True" in result.stdout  # the ISBI recipe's loss
    assert "epoch 1/2 100% |" in result.stderr and "pixel acc" in result.stderr
    # two validation images: rows of image | ground truth | prediction, 64 x 64 each
    figure = np.asarray(Image.open(out / "predictions.png"))
    assert figure.shape == (2 * 64 + 4, 3 * 64 + 2 * 4, 3)
    truth = figure[:64, 68:132]
    assert set(np.unique(truth)) <= {0, 255}  # membrane black, cell white


def test_a_new_run_refuses_a_folder_holding_one_without_overwrite(straight_run, capsys):
    out, _ = straight_run
    before = (out / "metrics.json").read_text()
    assert load_script().main(TINY + ["--data-dir", "nowhere", "--out", out]) == 2
    assert "holds an earlier run" in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == before


def test_ctrl_c_saves_and_resume_matches_an_uninterrupted_run(isbi_dir, tmp_path, straight_run):
    out = tmp_path / "run"
    command = [sys.executable, str(SCRIPT)] + [str(a) for a in TINY + [
        "--data-dir", isbi_dir, "--epochs", 2, "--out", out]]
    process = subprocess.Popen(command, cwd=tmp_path, env=environment(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("epoch 1/2"):  # the first batch is done
            process.send_signal(signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 130, "".join(seen) + stderr
    assert "interrupted: checkpoint saved" in stdout
    saved = mt.load(out / "checkpoint.npz")
    assert saved["partial"] is not None or saved["epoch"] == 1
    resumed = run_script(["--resume", out], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout
    assert without_times(records(out)) == without_times(records(straight_run[0]))
    a, b = mt.load(out / "checkpoint.npz"), mt.load(straight_run[0] / "checkpoint.npz")
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key].numpy(), b["model"][key].numpy())


def test_camvid_with_the_unpadded_unet(data_dir, tmp_path):
    if not (data_dir / "camvid-subset.tar.gz").is_file():
        pytest.skip(f"camvid-subset.tar.gz is not in {data_dir}")
    out = tmp_path / "camvid"
    result = run_script(["--dataset", "camvid", "--data-dir", data_dir, "--train-subset", "4",
                         "--val-subset", "2", "--image-size", "30", "40", "--crop-size", "24",
                         "--epochs", "1", "--batch-size", "2", "--repeat", "1", "--class-weights",
                         "median", "--model-option", "base_channels=2", "--model-option",
                         "padding=False", "--out", out],
                        tmp_path)
    assert result.returncode == 0, result.stderr
    assert "class weights median" in result.stdout
    row = records(out)[0]
    assert len(row["val_iou"]) == 11
    figure = np.asarray(Image.open(out / "predictions.png"))
    assert figure.shape == (2 * 30 + 4, 3 * 40 + 2 * 4, 3)


# ---------------------------------------------------------------------- the recipes
def test_recipes_fill_what_is_not_given():
    script = load_script()
    argv = ["--dataset", "camvid", "--epochs", "3"]
    args = script.build_parser().parse_args(argv)
    script.apply_recipe(args, vars(script.build_parser(suppress_defaults=True).parse_args(argv)))
    assert args.epochs == 3 and args.image_size == [180, 240] and args.class_weights == "none"
    assert script.model_options(args) == {"base_channels": 16, "padding": True,
                                          "batch_norm": True}


def test_a_bare_resume_looks_in_the_recipes_default_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_script().main(["--dataset", "camvid", "--resume"]) == 2
    assert "no checkpoint at runs/camvid-unet/checkpoint.npz" in capsys.readouterr().err


def test_readme_commands_are_valid_command_lines():
    """Every train_segmentation.py command of the README parses with the script's options."""
    script = load_script()
    readme = (REPO_ROOT / "README.md").read_text()
    commands = [line for line in readme.splitlines() if "examples/train_segmentation.py" in line
                and line.strip().startswith("python")]
    assert len(commands) >= 2
    for command in commands:
        argv = shlex.split(re.sub(r"\s+#.*$", "", command))[2:]
        script.build_parser().parse_args(argv)


# ------------------------------------------------------------------------ errors
def test_bad_options_are_rejected(capsys):
    for argv in (["--arch", "resnet20"], ["--model-option", "padding"], ["--lr", "inf"],
                 ["--model-option", "depth=import os"]):
        with pytest.raises(SystemExit) as exit_info:
            load_script().main(argv)
        assert exit_info.value.code == 2
        assert argv[0] in capsys.readouterr().err


def test_missing_data_says_what_to_pass(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MINITORCH_CV_DATA", raising=False)
    assert load_script().main(["--out", tmp_path / "out"]) == 2
    assert "--data-dir" in capsys.readouterr().err
    status = load_script().main(["--data-dir", tmp_path / "nowhere", "--out", tmp_path / "o"])
    assert status == 2
    assert "ISBI 2012 not found" in capsys.readouterr().err


def test_unknown_model_option_is_a_usage_error(isbi_dir, tmp_path, capsys):
    status = load_script().main(["--data-dir", isbi_dir, "--train-subset", "2", "--val-subset",
                                 "1", "--model-option", "widht=3", "--out", tmp_path / "o"])
    assert status == 2
    error = capsys.readouterr().err
    assert "--model-option" in error and "widht" in error and "base_channels" in error
