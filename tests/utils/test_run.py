"""minitorch_cv.utils.run on a linear model: the output-folder guard, a run's files and
records, divergence, the checkpoint checks of --resume, the schedules."""
import argparse
import json

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import data, nn, optim
from minitorch_cv.utils import arguments
from minitorch_cv.utils.run import (
    EXIT_DIVERGED,
    Run,
    RunError,
    RunState,
    adopt_recipe,
    build_schedule,
    check_out_folder,
    read_checkpoint,
)


def make_run(out, loss=None, epochs=2):
    mt.manual_seed(0)
    features = np.random.default_rng(0).normal(size=(32, 5)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.int64)
    dataset = data.TensorDataset(features, labels)
    train_loader = data.DataLoader(dataset, batch_size=8, shuffle=True, generator=0)
    test_loader = data.DataLoader(dataset, batch_size=16)
    model = nn.Linear(5, 2)
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    return Run(out, model, optimizer, train_loader, test_loader, loss or nn.CrossEntropyLoss(),
               nn.CrossEntropyLoss(), "cpu", epochs,
               checkpoint_extra={"format": "toy", "args": {"epochs": epochs, "lr": 0.5}})


def test_a_run_writes_records_and_a_resumable_checkpoint(tmp_path, capsys):
    run = make_run(tmp_path)
    assert run.train() == 0
    run.summary()
    rows = json.loads((tmp_path / "metrics.json").read_text())
    assert [row["epoch"] for row in rows] == [1, 2]
    assert rows[-1]["test_acc"] > 0.7  # a linearly separable toy problem
    checkpoint = read_checkpoint(tmp_path / "checkpoint.npz", "toy")
    assert checkpoint["epoch"] == 2 and checkpoint["records"] == rows
    assert "best test accuracy" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 in the gradients, on purpose
def test_a_diverged_run_stops_and_keeps_the_last_finite_epoch(tmp_path, capsys):
    def exploding(output, labels):
        return (output * float("inf")).sum()

    run = make_run(tmp_path, loss=exploding)
    assert run.train() == EXIT_DIVERGED
    assert "diverged" in capsys.readouterr().err
    assert not (tmp_path / "checkpoint.npz").exists()  # nothing finite to keep


def test_the_out_folder_guard(tmp_path):
    check_out_folder(tmp_path / "new")  # created
    assert (tmp_path / "new").is_dir()
    make_run(tmp_path / "new").train()
    with pytest.raises(RunError, match="holds an earlier run"):
        check_out_folder(tmp_path / "new")
    check_out_folder(tmp_path / "new", resume=True)
    check_out_folder(tmp_path / "new", overwrite=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(RunError, match="a file of that name"):
        check_out_folder(tmp_path / "file")
    with pytest.raises(RunError, match="cannot write there"):
        check_out_folder(tmp_path / "file" / "below")


def test_checkpoint_checks(tmp_path):
    with pytest.raises(RunError, match="no checkpoint at"):
        read_checkpoint(tmp_path / "none.npz", "toy")
    make_run(tmp_path).train()
    with pytest.raises(RunError, match="not a checkpoint of other.py"):
        read_checkpoint(tmp_path / "checkpoint.npz", "other")
    (tmp_path / "bad.npz").write_bytes(b"junk")
    with pytest.raises(RunError, match="bad.npz"):
        read_checkpoint(tmp_path / "bad.npz", "toy")


def test_adopt_recipe_validates_as_the_parser_does(capsys):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=arguments.learning_rate, default=0.1)
    parser.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--schedule", choices=("cosine", "onecycle"), default="cosine")
    args = parser.parse_args([])
    adopt_recipe({"args": {"lr": 0.2, "nesterov": False, "schedule": "onecycle"}}, args,
                 {"lr": 0.3}, ("lr", "nesterov", "schedule"), (), parser)
    assert (args.lr, args.nesterov, args.schedule) == (0.2, False, "onecycle")
    assert "--lr 0.3 ignored" in capsys.readouterr().out
    for bad, message in ((("lr", float("inf")), "--lr inf"), (("nesterov", "yes"), "--nesterov"),
                         (("schedule", "linear"), "--schedule 'linear'")):
        saved = {"lr": 0.2, "nesterov": False, "schedule": "cosine"}
        saved[bad[0]] = bad[1]
        with pytest.raises(RunError, match=message):
            adopt_recipe({"args": saved}, args, {}, ("lr", "nesterov", "schedule"), (), parser)


def test_adopt_recipe_checks_list_options_item_by_item():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", nargs="+", type=arguments.positive_int)
    parser.add_argument("--scale", nargs=2, type=float)
    parser.add_argument("--option", action="append", type=str)
    args = parser.parse_args([])
    recipe = ("size", "scale", "option")
    adopt_recipe({"args": {"size": [180, 240], "scale": [0.75, 1.25], "option": ["a=1"]}},
                 args, {}, recipe, (), parser)
    assert (args.size, args.scale, args.option) == ([180, 240], [0.75, 1.25], ["a=1"])
    for key, bad in (("size", [180, 0]), ("size", 180), ("scale", [0.5, "x"])):
        saved = {"size": [1], "scale": [1.0, 1.0], "option": []}
        saved[key] = bad
        with pytest.raises(RunError, match=f"--{key}"):
            adopt_recipe({"args": saved}, args, {}, recipe, (), parser)


def test_best_ranks_undefined_figures_last():
    state = RunState(2, [{"epoch": 1, "val_miou": float("nan")}, {"epoch": 2, "val_miou": 0.1}])
    assert state.best("val_miou") == (0.1, 2)
    assert RunState().best() == (None, None)


def test_unknown_schedule():
    optimizer = optim.SGD([nn.Parameter(mt.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="schedule"):
        build_schedule("linear", optimizer, 0.1, 10)


@pytest.mark.parametrize("parse, text", [(arguments.learning_rate, "inf"),
                                         (arguments.learning_rate, "1e300"),
                                         (arguments.learning_rate, "0"),
                                         (arguments.weight_decay, "-1"),
                                         (arguments.seed, "-1"), (arguments.seed, "x"),
                                         (arguments.positive_int, "0"),
                                         (arguments.fraction, "1"),
                                         (arguments.non_negative_int, "-1"),
                                         (arguments.non_negative_int, "1.5"),
                                         (arguments.positive_number, "0"),
                                         (arguments.positive_number, "nan"),
                                         (arguments.non_negative_number, "-0.1"),
                                         (arguments.non_negative_number, "inf")])
def test_argument_types_refuse(parse, text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected"):
        parse(text)
