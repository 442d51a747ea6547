"""mt.save / mt.load as PyTorch users call them: file objects, weights_only, whole
modules, the map_location forms, and the reader registry. (test_serialization.py covers
the format, corrupt files and kill-safety.)"""
import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn, serialization
from minitorch_cv.serialization import CheckpointError, UnsafeCheckpointError
from tests.helpers import DEVICES, GPU


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(mt.relu(self.fc1(x)))


class Tied(nn.Module):
    """Two layers sharing one weight (weight tying), to check sharing survives."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = nn.Linear(3, 3)
        self.b.weight = self.a.weight


def _round_trip(obj, **load_args):
    buffer = io.BytesIO()
    mt.save(obj, buffer)
    buffer.seek(0)
    return mt.load(buffer, **load_args)


def test_bytesio_round_trip_of_nested_containers_and_dtypes():
    obj = {
        "state": OrderedDict((name, mt.arange(6).to(getattr(mt, name)).reshape(2, 3))
                             for name in ("float16", "float32", "float64", "uint8", "int8",
                                          "int16", "int32", "int64", "bool")),
        "nested": [(mt.ones(1), {"deep": [mt.zeros(2, 2)]})],
        "dtype": mt.float64, "device": mt.device("cuda", 0), "shape": mt.Size([2, 3]),
        "numbers": (1, 2.5, None, True, "text"),
    }
    loaded = _round_trip(obj)
    assert type(loaded["state"]) is OrderedDict and list(loaded["state"]) == list(obj["state"])
    for name, tensor in loaded["state"].items():
        assert tensor.dtype is getattr(mt, name) and tensor.shape == (2, 3)
        np.testing.assert_array_equal(tensor.numpy(), obj["state"][name].numpy())
    inner = loaded["nested"][0]
    assert isinstance(inner, tuple) and inner[1]["deep"][0].shape == (2, 2)
    assert loaded["dtype"] is mt.float64
    assert isinstance(loaded["device"], mt.device) and loaded["device"].index == 0
    assert isinstance(loaded["shape"], mt.Size) and loaded["shape"] == (2, 3)
    assert loaded["numbers"] == (1, 2.5, None, True, "text")


def test_open_file_objects_and_the_file_position(tmp_path):
    path = tmp_path / "ck.pt"
    with open(path, "wb") as file:
        file.write(b"header")  # save writes from the current position
        mt.save({"w": mt.ones(2)}, file)
    with open(path, "rb") as file:
        assert file.read(6) == b"header"
        loaded = mt.load(file)  # load reads from the current position
    assert loaded["w"].numpy().tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="binary file object"):
        mt.load(io.StringIO("text"))


def test_a_file_object_that_is_not_a_checkpoint_is_named():
    with pytest.raises(CheckpointError, match="<BytesIO> is truncated or corrupt"):
        mt.load(io.BytesIO(b""))


def test_state_dict_parameter_and_requires_grad_round_trip():
    mt.manual_seed(0)
    model = Net()
    loaded = _round_trip({"model": model.state_dict(), "p": model.fc1.weight})
    assert isinstance(loaded["p"], nn.Parameter) and loaded["p"].requires_grad
    target = Net()
    target.load_state_dict(loaded["model"])
    x = mt.randn(2, 4)
    np.testing.assert_array_equal(target(x).detach().numpy(), model(x).detach().numpy())


# -------------------------------------------------------------- weights_only
def test_whole_module_needs_weights_only_false(tmp_path):
    mt.manual_seed(0)
    model = Net()
    path = tmp_path / "model.pt"
    mt.save({"model": model, "epoch": 3}, path)
    with pytest.raises(UnsafeCheckpointError, match=r"test_serialization_api.Net at obj\['model'\]"):
        mt.load(path)
    with pytest.raises(UnsafeCheckpointError, match="weights_only=False only if you trust"):
        mt.load(path, weights_only=True)
    loaded = mt.load(path, weights_only=False)
    assert loaded["epoch"] == 3 and isinstance(loaded["model"], Net)
    restored = loaded["model"]
    assert isinstance(restored.fc1.weight, nn.Parameter) and restored.fc1.weight.requires_grad
    assert restored.fc1.weight.grad is None
    x = mt.randn(5, 4)
    np.testing.assert_array_equal(restored(x).detach().numpy(), model(x).detach().numpy())
    with zipfile.ZipFile(path) as archive:  # the weights are .npy members, not in the pickle
        names = archive.namelist()
    assert "pickles/0.pkl" in names and sum(n.startswith("arrays/") for n in names) == 4


def test_shared_parameters_stay_shared_in_a_pickled_module():
    loaded = _round_trip(Tied(), weights_only=False)
    assert loaded.a.weight is loaded.b.weight
    assert len(list(loaded.parameters())) == 3


def test_weights_only_runs_nothing_from_the_file(tmp_path):
    """A hand-made checkpoint whose pickle would create a file when unpickled."""
    marker = tmp_path / "executed"
    payload = pickle.dumps(_CreateFile(str(marker)))
    path = tmp_path / "evil.mtc"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("structure.json", (
            '{"format": "minitorch_cv-checkpoint", "version": 1, "object": '
            '{"__dict__": [["w", {"__pickle__": 0, "class": "innocent.Thing"}]], "type": "dict"}}'
        ))
        archive.writestr("pickles/0.pkl", payload)
    with pytest.raises(UnsafeCheckpointError, match=r"innocent.Thing at obj\['w'\]"):
        mt.load(path)
    assert not marker.exists()
    mt.load(path, weights_only=False)  # the documented danger, shown once
    assert marker.exists()


class _CreateFile:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_unpicklable_objects_are_named_before_any_file_is_written(tmp_path):
    with pytest.raises(TypeError, match=r"generator at obj\['gen'\]"):
        mt.save({"gen": (i for i in range(3))}, tmp_path / "bad.pt")
    assert os.listdir(tmp_path) == []


# -------------------------------------------------------------- map_location
@pytest.mark.parametrize("device", DEVICES)
def test_map_location_forms(device):
    buffer = io.BytesIO()
    mt.save({"w": mt.ones(2, device=device), "a": np.ones(2)}, buffer)

    def load(map_location):
        buffer.seek(0)
        return mt.load(buffer, map_location=map_location)

    assert load(None)["w"].device == device
    assert load(mt.device("cpu"))["w"].device == "cpu"
    assert load({"cuda:0": "cpu"})["w"].device == "cpu"
    assert load({"cpu": "cpu"})["w"].device == device  # devices not named stay
    assert load(lambda storage, loc: storage)["w"].device == "cpu"
    seen = []
    load(lambda storage, loc: seen.append(loc))  # None: the saved device
    assert seen == ["cuda:0" if device == "gpu" else "cpu"]
    assert isinstance(load("cpu")["a"], np.ndarray)  # NumPy arrays stay NumPy arrays
    with pytest.raises(TypeError, match="map_location: expected None, a device"):
        load(3)


@pytest.mark.skipif(GPU, reason="checks the error raised when no GPU exists")
def test_gpu_checkpoint_on_a_machine_without_gpu_says_what_to_pass(tmp_path):
    path = tmp_path / "gpu.mtc"
    mt.save({"w": mt.ones(2)}, path)
    with zipfile.ZipFile(path) as archive:  # as if saved on a GPU machine
        members = {name: archive.read(name) for name in archive.namelist()}
    members["structure.json"] = members["structure.json"].replace(
        b'"requires_grad": false', b'"requires_grad": false, "device": "gpu"'
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(RuntimeError, match="saved on the GPU.*map_location='cpu'"):
        mt.load(path)
    assert mt.load(path, map_location="cpu")["w"].device == "cpu"


# ---------------------------------------------------------------- registry
def test_a_registered_reader_reads_its_format(monkeypatch):
    class Upper:
        """A toy format: b"UPPER" + text; stands for a PyTorch or safetensors reader."""

        name = "toy format"

        def claims(self, source):
            return source.head.startswith(b"UPPER")

        def read(self, source, placement, weights_only=True):
            text = source.file.read()[5:].decode()
            return {"text": text.upper(), "w": mt.Tensor(placement.place(np.ones(1), "cpu"))}

    monkeypatch.setattr(serialization.readers, "_READERS", list(serialization.readers._READERS))
    serialization.register_reader(Upper())
    loaded = mt.load(io.BytesIO(b"UPPERhello"))
    assert loaded["text"] == "HELLO" and loaded["w"].device == "cpu"
    with pytest.raises(CheckpointError, match="known formats: minitorch_cv checkpoint, PyTorch checkpoint, safetensors, toy format"):
        mt.load(io.BytesIO(b"something else"))
    with pytest.raises(TypeError, match="a reader needs a 'name' attribute"):
        serialization.register_reader(object())
