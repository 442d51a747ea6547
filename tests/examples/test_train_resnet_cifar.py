"""examples/train_resnet_cifar.py end to end on a few real CIFAR-10 images: its files,
resuming (after a finished run and after Ctrl-C), and its error messages.

The runs are tiny (32 training images, batches of 8) so that each takes seconds; they
check the plumbing, not the accuracy. Subprocesses run with one BLAS and one Numba
thread: at these sizes threads only add wake-up costs, and on a machine shared with
other jobs oversubscribed threads make the runs many times slower.
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import minitorch_cv as mt
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "examples" / "train_resnet_cifar.py"
TINY = ["--arch", "resnet20", "--train-subset", "32", "--test-subset", "8", "--batch-size", "8"]
RECORD_FIELDS = {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds",
                 "images_per_second"}
TIMES = {"seconds", "images_per_second"}  # wall-clock: differ between any two runs
CHECKPOINT_FIELDS = {"format", "args", "model", "optimizer", "scheduler", "loader", "rng",
                     "epoch", "best_acc", "best_epoch", "records", "partial"}


@pytest.fixture(scope="module")
def archive(data_dir):
    path = data_dir / "cifar-10-subset-python.tar.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found (see ../shared/data/README.md)")
    return path


def environment(**extra):
    # PYTHONPATH: the subprocess imports this checkout's minitorch_cv, whatever is installed
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1", PYTHONPATH=path)
    env.update(extra)
    return env


def run_script(args, cwd, env=None):
    result = subprocess.run([sys.executable, str(SCRIPT)] + [str(a) for a in args], cwd=cwd,
                            env=env or environment(), capture_output=True, text=True,
                            timeout=600)
    return result


def records(out):
    return json.loads((out / "metrics.json").read_text())


def without_times(rows):
    return [{k: v for k, v in row.items() if k not in TIMES} for row in rows]


def assert_same_state(first, second):
    """The model and the optimizer's momentum buffers of two checkpoints, bit for bit."""
    a, b = mt.load(first / "checkpoint.npz"), mt.load(second / "checkpoint.npz")
    assert list(a["model"]) == list(b["model"])
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key].numpy(), b["model"][key].numpy(),
                                      err_msg=key)
    for index, state in a["optimizer"]["state"].items():
        np.testing.assert_array_equal(state["momentum_buffer"].numpy(),
                                      b["optimizer"]["state"][index]["momentum_buffer"].numpy())


@pytest.fixture(scope="module")
def straight_run(archive, tmp_path_factory):
    """Two epochs without interruption: the reference for the resumed runs."""
    out = tmp_path_factory.mktemp("straight")
    result = run_script(TINY + ["--data-dir", archive, "--epochs", 2, "--out", out], out)
    assert result.returncode == 0, result.stderr
    return out, result


def test_run_writes_metrics_checkpoint_and_reports(straight_run):
    out, result = straight_run
    rows = records(out)
    assert [row["epoch"] for row in rows] == [1, 2]
    for row in rows:
        assert RECORD_FIELDS <= set(row)
        assert 0 <= row["train_acc"] <= 1 and 0 <= row["test_acc"] <= 1
        assert row["train_loss"] > 0 and row["seconds"] > 0 and row["images_per_second"] > 0
    checkpoint = mt.load(out / "checkpoint.npz")
    assert set(checkpoint) == CHECKPOINT_FIELDS
    assert checkpoint["format"] == "train_resnet_cifar" and checkpoint["epoch"] == 2
    assert checkpoint["partial"] is None and checkpoint["records"] == rows
    assert checkpoint["best_acc"] == max(row["test_acc"] for row in rows)
    assert checkpoint["args"]["arch"] == "resnet20" and checkpoint["args"]["epochs"] == 2
    assert checkpoint["loader"]["epoch"] == 2 and checkpoint["loader"]["batch"] == 0
    assert "conv1.weight" in checkpoint["model"]
    # the console: a line per epoch, then best and final accuracy
    assert "epoch 1/2  train loss" in result.stdout and "epoch 2/2  train loss" in result.stdout
    assert "best test accuracy" in result.stdout and ", final " in result.stdout
    # the progress bar on stderr (not a terminal here: plain lines, no carriage returns)
    assert "epoch 1/2 100% |" in result.stderr and "img/s]" in result.stderr
    assert "loss " in result.stderr and "acc " in result.stderr and "\r" not in result.stderr
    curves = out / "curves.png"
    assert curves.exists() or "curves.png skipped: matplotlib is not installed" in result.stdout


def test_one_epoch_then_resume_with_more_epochs(archive, tmp_path, straight_run):
    out = tmp_path / "run"
    first = run_script(TINY + ["--data-dir", archive, "--epochs", 1, "--out", out], tmp_path)
    assert first.returncode == 0, first.stderr
    one = records(out)
    assert [row["epoch"] for row in one] == [1]
    # the first epoch of a 1-epoch run is the straight run's first epoch except for the
    # learning rate, whose schedule spans the run's length
    straight = records(straight_run[0])
    assert one[0]["lr"] != straight[0]["lr"]

    second = run_script(["--resume", "--out", out, "--epochs", 2], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "resumed from" in second.stdout and "stretched" in second.stdout
    two = records(out)
    assert [row["epoch"] for row in two] == [1, 2]
    assert two[0] == one[0]  # kept, not recomputed
    # the stretched schedule ends where a 2-epoch schedule ends
    assert two[1]["lr"] == pytest.approx(straight[1]["lr"], rel=1e-12)
    assert RECORD_FIELDS <= set(two[1])
    assert mt.load(out / "checkpoint.npz")["epoch"] == 2


def test_ctrl_c_saves_and_resume_matches_an_uninterrupted_run(archive, tmp_path, straight_run):
    out = tmp_path / "run"
    command = [sys.executable, str(SCRIPT)] + [str(a) for a in TINY + [
        "--data-dir", archive, "--epochs", 2, "--out", out]]
    process = subprocess.Popen(command, cwd=tmp_path, env=environment(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    for line in process.stderr:  # the first progress line: training has started
        seen.append(line)
        if line.startswith("epoch 1/2"):
            process.send_signal(signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=600)
    stderr = "".join(seen) + stderr
    assert process.returncode == 130, stderr
    assert "interrupted: checkpoint saved" in stdout and "--resume" in stdout
    saved = mt.load(out / "checkpoint.npz")
    # Stopped inside epoch 1 after a whole step (the signal came after its first batch);
    # only a process stalled for the rest of the epoch would stop at its end instead.
    assert saved["partial"] is not None or saved["epoch"] == 1

    resumed = run_script(["--resume", out / "checkpoint.npz"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout
    assert without_times(records(out)) == without_times(records(straight_run[0]))
    assert_same_state(out, straight_run[0])


# ------------------------------------------------------------------------ schedules
def learning_rates(schedule, epochs=4, steps_per_epoch=5, lr=0.1):
    """The lr of every step of the script's schedule on a one-parameter SGD."""
    script = load_script()
    args = script.build_parser().parse_args(["--schedule", schedule, "--epochs", str(epochs),
                                             "--lr", str(lr)])
    optimizer = mt.optim.SGD([mt.nn.Parameter(mt.zeros(1))], lr=lr, momentum=0.9, nesterov=True)
    scheduler = script.build_scheduler(args, optimizer, steps_per_epoch)
    rates = []
    for _ in range(epochs * steps_per_epoch):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_schedules_are_per_batch_with_the_documented_shapes():
    onecycle = learning_rates("onecycle")
    assert onecycle[0] == pytest.approx(0.1 / 25)  # PyTorch's div_factor
    assert max(onecycle) == pytest.approx(0.1, rel=1e-3)
    assert onecycle.index(max(onecycle)) == 5  # PyTorch: the warm-up ends at step 0.3 * 20 - 1
    cosine = learning_rates("cosine")
    assert cosine[0] == pytest.approx(0.1) and cosine[10] == pytest.approx(0.05)
    assert all(a > b for a, b in zip(cosine, cosine[1:]))
    multistep = learning_rates("multistep")
    assert multistep[:10] == pytest.approx([0.1] * 10)
    assert multistep[10:15] == pytest.approx([0.01] * 5)
    assert multistep[15:] == pytest.approx([0.001] * 5)


# ------------------------------------------------------------------------ errors
def load_script():
    spec = importlib.util.spec_from_file_location("train_resnet_cifar", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unknown_arch_lists_the_models(capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_script().main(["--arch", "resnet21"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "--arch" in error and "resnet21" in error and "resnet20" in error


def test_the_cifar_networks_of_the_help_are_registered():
    from minitorch_cv import models

    assert set(load_script().CIFAR_ARCHS) <= set(models.list_models())


def test_missing_data_dir_says_what_to_pass(tmp_path, capsys):
    status = load_script().main(["--data-dir", tmp_path / "nowhere", "--out", tmp_path / "out"])
    assert status == 2
    error = capsys.readouterr().err
    assert "CIFAR-10 not found" in error and str(tmp_path / "nowhere") in error
    assert "--data-dir ../shared/data/cifar-10-subset-python.tar.gz" in error


def test_no_data_and_no_network_says_what_to_pass(tmp_path):
    # No --data-dir, no MINITORCH_CV_DATA, an empty cache, and every download sent to a
    # closed local port: the script tries the download, fails at once, and explains.
    env = environment(XDG_CACHE_HOME=str(tmp_path / "cache"), https_proxy="http://127.0.0.1:9",
                      http_proxy="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
                      HTTP_PROXY="http://127.0.0.1:9")
    for name in ("MINITORCH_CV_DATA", "no_proxy", "NO_PROXY"):
        env.pop(name, None)
    result = run_script(["--out", tmp_path / "out"], tmp_path, env=env)
    assert result.returncode == 2
    assert "using the download cache" in result.stdout
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert f"Downloading {url} failed" in result.stderr
    assert "--data-dir" in result.stderr and "Traceback" not in result.stderr


def test_resume_without_checkpoint(tmp_path, capsys):
    status = load_script().main(["--resume", tmp_path / "missing.npz"])
    assert status == 2
    assert "no checkpoint at" in capsys.readouterr().err


@pytest.mark.skipif(mt.cuda.is_available(), reason="checks the message shown without a GPU")
def test_gpu_without_gpu(tmp_path, capsys):
    status = load_script().main(["--device", "gpu", "--out", tmp_path / "out"])
    assert status == 2
    assert "--device gpu" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--lr", "-0.1"], ["--device", "tpu"],
                                  ["--label-smoothing", "1.5"], ["--momentum", "1"]])
def test_bad_numbers_are_rejected(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_script().main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert argv[0] in error and "expected" in error


def test_nesterov_without_momentum(tmp_path, capsys):
    status = load_script().main(["--momentum", "0", "--out", tmp_path / "out"])
    assert status == 2
    assert "--no-nesterov" in capsys.readouterr().err


def test_readme_commands_are_valid_command_lines():
    """Every train_resnet_cifar.py command in the README parses with the script's options."""
    readme = (REPO_ROOT / "README.md").read_text()
    commands = [line.split("train_resnet_cifar.py", 1)[1].split()
                for line in readme.splitlines()
                if line.startswith("python examples/train_resnet_cifar.py")]
    assert len(commands) >= 3
    subset = "../shared/data/cifar-10-subset-python.tar.gz"
    assert ["--device", "cpu", "--data-dir", subset] in commands
    parser = load_script().build_parser()
    for argv in commands:
        parser.parse_args(argv)  # exits (status 2) on an unknown option


# -------------------------------------------- no run destroyed, no nonsense accepted
def test_a_new_run_refuses_a_folder_holding_a_run(straight_run, archive, capsys):
    out = straight_run[0]
    before = {name: (out / name).read_bytes() for name in ("metrics.json", "checkpoint.npz")}
    status = load_script().main(TINY + ["--data-dir", archive, "--out", out])
    assert status == 2
    error = capsys.readouterr().err
    assert "holds an earlier run" in error and "--resume" in error and "--overwrite" in error
    assert {name: (out / name).read_bytes() for name in before} == before


@pytest.mark.parametrize("argv", [["--lr", "inf"], ["--lr", "1e300"], ["--lr", "nan"],
                                  ["--weight-decay", "inf"], ["--seed", "-1"],
                                  ["--seed", "1.5"]])
def test_nonsense_numbers_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_script().main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert argv[0] in error and "expected" in error and "Traceback" not in error


def test_out_that_is_a_file_or_unwritable(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert load_script().main(["--out", a_file]) == 2
    assert "a file of that name exists" in capsys.readouterr().err
    assert load_script().main(["--out", a_file / "below"]) == 2
    assert "cannot write there" in capsys.readouterr().err


def crafted_checkpoints(straight_run, tmp_path):
    """Checkpoints a user might be handed: damaged, of another model, with crafted
    arguments, a PyTorch pickle that would run code, garbage."""
    good = mt.load(straight_run[0] / "checkpoint.npz")
    cases = {}
    damaged = dict(good)
    del damaged["optimizer"]
    cases["damaged"] = (damaged, "is damaged")
    other_model = dict(good, model={"fc.weight": mt.zeros(3, 3)})
    cases["other model"] = (other_model, "does not fit this run")
    crafted_args = dict(good, args=dict(good["args"], lr=1e300))
    cases["crafted lr"] = (crafted_args, "--lr 1e+300")
    wrong_type = dict(good, args=dict(good["args"], batch_size="x"))
    cases["wrong type"] = (wrong_type, "--batch-size 'x'")
    records = dict(good, epoch=5)
    cases["records"] = (records, "disagree")
    paths = {}
    for name, (checkpoint, message) in cases.items():
        path = tmp_path / f"{name}.npz"
        mt.save(checkpoint, path)
        paths[name] = (path, message)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    paths["garbage"] = (garbage, "garbage.npz")
    return paths


def test_crafted_resume_checkpoints_are_refused_without_traceback(straight_run, archive,
                                                                   tmp_path, capsys):
    from tests.formats import crafting

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.npz"
    evil.write_bytes(crafting.torch_zip(crafting.program(crafting.call(
        crafting.global_("posix", "system"), crafting.string(f"touch {marker}")))))
    cases = crafted_checkpoints(straight_run, tmp_path)
    cases["pytorch pickle running code"] = (evil, "refused")
    for name, (path, message) in cases.items():
        status = load_script().main(["--resume", path, "--data-dir", archive,
                                     "--out", tmp_path / "out"])
        error = capsys.readouterr().err
        assert status == 2, (name, error)
        assert message in error and "Traceback" not in error, (name, error)
    assert not marker.exists()
