"""The foreign formats through the public API: mt.load recognises them by their first
bytes, mt.save writes safetensors for a .safetensors path, map_location applies, and
models.get_model(name, weights=path) builds a model with a file's weights."""
import pathlib

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models
from minitorch_cv.serialization import CheckpointError
from tests.formats import crafting as c

DATA = pathlib.Path(__file__).parent / "data"
REFERENCE = np.load(DATA / "reference.npz")


@pytest.mark.parametrize("name", ["densenet_tiny.pt", "densenet_tiny_legacy.pt",
                                  "vit_tiny.safetensors", "mixed.pt", "mixed.safetensors"])
def test_mt_load_recognises_each_format(name):
    loaded = mt.load(DATA / name)
    assert isinstance(loaded, dict) and loaded


def test_mt_save_writes_safetensors_by_suffix_and_load_reads_it_back(tmp_path):
    state = mt.load(DATA / "densenet_tiny.pt")
    path = tmp_path / "weights.safetensors"
    mt.save(state, path)
    assert path.read_bytes()[8:9] == b"{"  # the safetensors layout, not a ZIP
    again = mt.load(path)
    assert list(again) == sorted(state, key=list(again).index)
    for key in state:
        np.testing.assert_array_equal(again[key].numpy(), state[key].numpy())


def test_tensors_saved_on_a_gpu_follow_map_location(tmp_path):
    payload = c.program(c.tuple_(c.string("storage"), c.global_("torch", "FloatStorage"),
                                 c.string("0"), c.string("cuda:0"), c.integer(2)) + c.BINPERSID)
    tensor = c.call(c.global_("torch._utils", "_rebuild_tensor_v2"),
                    payload[2:-1], c.integer(0), c.tuple_(c.integer(2)), c.tuple_(c.integer(1)),
                    c.NEWFALSE, c.ordered_dict())
    path = tmp_path / "gpu.pt"
    path.write_bytes(c.torch_zip(c.program(tensor), {"0": np.ones(2, "<f4").tobytes()}))
    loaded = mt.load(path, map_location="cpu")
    assert loaded.device == "cpu" and loaded.numpy().tolist() == [1.0, 1.0]
    if not mt.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location='cpu'"):
            mt.load(path)


def test_get_model_with_a_torchvision_checkpoint_gives_torchvisions_outputs():
    model = models.get_model("mobilenet_v2", weights=DATA / "mobilenet_v2_width0.1.pth",
                             width_mult=0.1, num_classes=3)
    model.eval()
    logits = model(mt.tensor(REFERENCE["mobilenet_v2.input"])).detach().numpy()
    np.testing.assert_allclose(logits, REFERENCE["mobilenet_v2.logits"], rtol=1e-5, atol=1e-5)


def test_get_model_loads_the_file_into_the_named_model(tmp_path):
    source = models.resnet20(num_classes=4)
    for name, save in (("w.safetensors", mt.save),
                       ("w.mtc", lambda state, path: mt.save({"model": state, "epoch": 2}, path))):
        save(source.state_dict(), tmp_path / name)
        model = models.get_model("resnet20", weights=tmp_path / name, num_classes=4)
        for key, value in model.state_dict().items():
            np.testing.assert_array_equal(value.numpy(), source.state_dict()[key].numpy(), err_msg=key)
    model = models.get_model("resnet20", weights=source.state_dict(), num_classes=4)
    assert model.fc.weight.shape == (4, 64)


def test_get_model_errors_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="does not download"):
        models.get_model("resnet18", weights="IMAGENET1K_V1")
    with pytest.raises(TypeError, match="a path or a state_dict"):
        models.get_model("resnet20", weights=3)
    with pytest.raises(FileNotFoundError):
        models.get_model("resnet20", weights=tmp_path / "missing.pt")
    mt.save(models.resnet20(num_classes=4).state_dict(), tmp_path / "four.safetensors")
    with pytest.raises(RuntimeError, match="size mismatch|shape"):
        models.get_model("resnet20", weights=tmp_path / "four.safetensors")  # 10 classes
    (tmp_path / "junk.pt").write_bytes(b"\0" * 100)
    with pytest.raises(CheckpointError, match="junk.pt"):
        models.get_model("resnet20", weights=tmp_path / "junk.pt")


def test_the_readme_example_runs(data_dir, tmp_path, monkeypatch):
    """The README's example of ImageNet weights on an image, as printed there."""
    from tests.conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Weights from PyTorch, and back", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    archive = data_dir / "cifar-10-subset-python.tar.gz"
    assert "../shared/data/cifar-10-subset-python.tar.gz" in code
    monkeypatch.chdir(tmp_path)
    exec(code.replace("../shared/data/cifar-10-subset-python.tar.gz", str(archive)), {})
    assert (tmp_path / "resnet18.safetensors").is_file()
