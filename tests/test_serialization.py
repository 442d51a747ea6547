"""mt.save / mt.load: round trips of nested structures with exact dtypes, model and
optimizer checkpoints, corrupt and truncated files, and kill-safety of the writer."""
import math
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn, serialization
from minitorch_cv.serialization import CheckpointError
from tests.helpers import DEVICES, GPU

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _nested():
    return {
        "tensors": {
            name: mt.tensor(np.arange(6).reshape(2, 3).astype(name))
            for name in ("float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64")
        },
        "bool": mt.tensor([True, False]),
        "scalar": mt.tensor(7, dtype=mt.int64),
        "grad_leaf": mt.ones(2, requires_grad=True),
        "arrays": [np.zeros((0, 3)), np.arange(12.0).reshape(3, 4).T, np.array(2.5)],
        "numpy_scalars": (np.float32(1.25), np.int64(-3), np.bool_(True)),
        "numbers": [0, -1, 2**70, -(2**64) - 1, 1.5, -0.0, float("inf"), float("-inf")],
        "text": ["", "héllo ✓", "__tensor__"],
        "flags": (True, False, None),
        "int_keys": {0: "a", 5: [1, 2], -1: {}},
        "mixed_keys": {(1, 2): "tuple", 2.5: "float", None: "none", True: "bool"},
        "ordered": OrderedDict([("z", 1), ("a", 2)]),
        "empty": ({}, [], ()),
        "tricky_dict": {"__tensor__": 3, "__dict__": "not special"},
    }


def _assert_same(a, b):
    assert type(a) is type(b) or (isinstance(a, mt.Tensor) and isinstance(b, mt.Tensor)), (a, b)
    if isinstance(a, mt.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b and repr(a) == repr(b)


def test_nested_round_trip_preserves_values_types_and_dtypes(tmp_path):
    obj = _nested()
    path = tmp_path / "nested.mtc"
    mt.save(obj, path)
    loaded = mt.load(path)
    _assert_same(obj, loaded)
    assert math.isnan(mt.load(_save(tmp_path, float("nan"))))
    assert all(t.device == "cpu" for t in loaded["tensors"].values())


def _save(tmp_path, obj, name="x.mtc"):
    path = tmp_path / name
    mt.save(obj, path)
    return path


def test_file_is_a_plain_npz_without_pickles(tmp_path):
    path = _save(tmp_path, {"w": mt.ones(3), "n": 4})
    with np.load(path, allow_pickle=False) as archive:  # readable without minitorch_cv
        assert sorted(archive.files) == ["arrays/0", "structure.json"]
        np.testing.assert_array_equal(archive["arrays/0"], np.ones(3, dtype=np.float32))
    with zipfile.ZipFile(path) as archive:
        assert b'"format": "minitorch_cv-checkpoint"' in archive.read("structure.json")


@pytest.mark.parametrize("device", DEVICES)
def test_map_location(device, tmp_path):
    path = _save(tmp_path, {"w": mt.randn(3, device=device), "a": np.ones(2)})
    assert mt.load(path)["w"].device == device  # None: where it was saved (PyTorch)
    assert mt.load(path, map_location="cpu")["w"].device == "cpu"
    loaded = mt.load(path, map_location=device)
    assert loaded["w"].device == device
    assert isinstance(loaded["a"], np.ndarray)


def test_unsupported_objects_are_named(tmp_path):
    with pytest.raises(TypeError, match=r"function at obj\['sched'\]\['fn'\]\[0\]"):
        mt.save({"sched": {"fn": [lambda e: e]}}, tmp_path / "bad.mtc")
    with pytest.raises(TypeError, match="dtype object"):
        mt.save({"a": np.array([{}, 1], dtype=object)}, tmp_path / "bad.mtc")
    assert not os.path.exists(tmp_path / "bad.mtc")
    assert os.listdir(tmp_path) == []


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)
        self.register_buffer("steps", mt.zeros((), dtype=mt.int64))

    def forward(self, x):
        return self.fc2(mt.relu(self.fc1(x)))


@pytest.mark.parametrize("save_device", DEVICES)
@pytest.mark.parametrize("load_device", DEVICES)
def test_model_state_dict_round_trip_across_devices(save_device, load_device, tmp_path):
    mt.manual_seed(0)
    source = Net().to(save_device)
    source.steps.array[...] = 41
    path = _save(tmp_path, {"model": source.state_dict(), "epoch": 3})

    mt.manual_seed(1)
    target = Net().to(load_device)
    checkpoint = mt.load(path, map_location=load_device)
    assert checkpoint["model"]["steps"].dtype == mt.int64
    target.load_state_dict(checkpoint["model"])
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        source(mt.tensor(x, device=save_device)).detach().numpy(), target(mt.tensor(x, device=load_device)).detach().numpy()
    )
    assert target.steps.item() == 41 and target.steps.dtype == mt.int64


def test_full_training_checkpoint_with_rng_state(tmp_path):
    model = Net()
    optimizer = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = mt.optim.lr_scheduler.MultiStepLR(optimizer, [2, 4])
    model(mt.randn(2, 4)).sum().backward()
    optimizer.step()
    scheduler.step()
    mt.manual_seed(5)
    mt.randn(3)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": 1,
        "rng": mt.get_rng_state(),
    }
    path = _save(tmp_path, checkpoint)
    expected_draw = mt.randn(4).numpy()
    loaded = mt.load(path)
    _assert_same(checkpoint["model"], loaded["model"])
    _assert_same(checkpoint["optimizer"]["state"], loaded["optimizer"]["state"])
    assert loaded["optimizer"]["param_groups"] == checkpoint["optimizer"]["param_groups"]
    assert loaded["scheduler"]["last_epoch"] == 1
    mt.set_rng_state(loaded["rng"])
    np.testing.assert_array_equal(mt.randn(4).numpy(), expected_draw)


# ------------------------------------------------------------ corrupt files
def _big_checkpoint(tmp_path):
    return _save(tmp_path, {"w": mt.tensor(np.linspace(0, 1, 20000)), "n": 1}, "big.mtc")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        mt.load(tmp_path / "nothing.mtc")


def test_truncated_file_is_rejected_with_the_path(tmp_path):
    path = _big_checkpoint(tmp_path)
    data = path.read_bytes()
    for keep in (len(data) // 2, len(data) - 10, 10, 0):
        path.write_bytes(data[:keep])
        with pytest.raises(CheckpointError, match="big.mtc is truncated or corrupt"):
            mt.load(path)


def test_flipped_byte_in_array_data_is_detected(tmp_path):
    path = _big_checkpoint(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the 160 kB of array data
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="CRC"):
        mt.load(path)


def test_other_files_are_not_checkpoints(tmp_path):
    garbage = tmp_path / "garbage.mtc"
    garbage.write_bytes(b"\x00\x01 not a zip at all" * 10)
    with pytest.raises(CheckpointError, match="garbage.mtc"):
        mt.load(garbage)
    plain_npz = tmp_path / "plain.npz"
    np.savez(plain_npz, a=np.ones(2))
    with pytest.raises(CheckpointError, match="not a minitorch_cv checkpoint"):
        mt.load(plain_npz)


def _rewrite_structure(path, edit):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["structure.json"] = edit(members["structure.json"].decode()).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_bad_structure_documents(tmp_path):
    path = _save(tmp_path, {"w": mt.ones(2)})
    _rewrite_structure(path, lambda s: s.replace('"version": 1', '"version": 99'))
    with pytest.raises(CheckpointError, match="format version 99"):
        mt.load(path)
    path = _save(tmp_path, {"w": mt.ones(2)})
    _rewrite_structure(path, lambda s: s.replace('"__tensor__": 0', '"__tensor__": 7'))
    with pytest.raises(CheckpointError, match="missing array 7"):
        mt.load(path)
    path = _save(tmp_path, {"w": mt.ones(2)})
    _rewrite_structure(path, lambda s: s[: len(s) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        mt.load(path)


# --------------------------------------------------------------- kill-safety
def test_failure_midway_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = _save(tmp_path, {"epoch": 1, "w": mt.zeros(1000)}, "ck.mtc")
    original = serialization.native._write_member

    def write_half_then_fail(archive, name, array):
        with archive.open(name, "w", force_zip64=True) as member:
            member.write(b"\x93NUMPY partial")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialization.native, "_write_member", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        mt.save({"epoch": 2, "w": mt.ones(1000)}, path)
    monkeypatch.setattr(serialization.native, "_write_member", original)

    assert os.listdir(tmp_path) == ["ck.mtc"]  # no temporary file left behind
    loaded = mt.load(path)
    assert loaded["epoch"] == 1 and loaded["w"].numpy().sum() == 0


def test_killed_writer_leaves_the_previous_checkpoint_loadable(tmp_path):
    path = _save(tmp_path, {"epoch": 1, "w": mt.zeros(1000)}, "ck.mtc")
    before = path.read_bytes()
    # A separate process starts overwriting the checkpoint and is SIGKILLed in the middle
    # of writing its second array: no Python cleanup code gets to run.
    script = textwrap.dedent(
        f"""
        import os, signal
        import minitorch_cv as mt
        from minitorch_cv import serialization
        original = serialization.native._write_member
        def write_and_die(archive, name, array):
            if name == "arrays/1.npy":
                with archive.open(name, "w", force_zip64=True) as member:
                    member.write(b"\\x93NUMPY" + b"x" * 5000)
                    member.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
            original(archive, name, array)
        serialization.native._write_member = write_and_die
        mt.save({{"epoch": 2, "w": mt.ones(100000), "v": mt.ones(100000)}}, {str(path)!r})
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    assert path.read_bytes() == before
    loaded = mt.load(path)
    assert loaded["epoch"] == 1
    leftovers = [name for name in os.listdir(tmp_path) if name != "ck.mtc"]
    # the killed writer's partial temporary file is beside, never in place of, the checkpoint
    assert all(name.startswith(".ck.mtc.") and name.endswith(".tmp") for name in leftovers)
    assert len(leftovers) == 1 and os.path.getsize(tmp_path / leftovers[0]) > 5000


def test_save_replaces_an_existing_checkpoint_atomically(tmp_path):
    path = _save(tmp_path, {"epoch": 1}, "ck.mtc")
    mt.save({"epoch": 2, "w": mt.ones(3)}, path)
    assert mt.load(path)["epoch"] == 2
    assert os.listdir(tmp_path) == ["ck.mtc"]


@pytest.mark.skipif(GPU, reason="checks the error raised when no GPU exists")
def test_map_location_gpu_without_gpu_is_a_clear_error(tmp_path):
    path = _save(tmp_path, {"w": mt.ones(2)})
    with pytest.raises(RuntimeError, match="GPU"):
        mt.load(path, map_location="gpu")
