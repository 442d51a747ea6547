"""PyTorch checkpoints read without PyTorch: files torch.save wrote (benchmarks/
make_weight_files.py made them once) load into our models with torch's values, in both
layouts; pickles that would run code are refused and run nothing; truncated, corrupt and
hostile files raise CheckpointError naming the file."""
import io
import os
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import formats, models
from minitorch_cv.serialization import CheckpointError
from tests.formats import crafting as c

DATA = pathlib.Path(__file__).parent / "data"
REFERENCE = np.load(DATA / "reference.npz")


def tiny_densenet():
    return models.DenseNet(growth_rate=4, block_config=(1, 1, 1, 1), num_init_features=8,
                           bn_size=2, num_classes=5)


@pytest.mark.parametrize("name", ["densenet_tiny.pt", "densenet_tiny_legacy.pt"])
def test_torchvision_state_dict_loads_into_our_model_with_torchs_outputs(name):
    state = formats.load_torch(DATA / name)
    expected = {key[len("densenet_tiny.state."):]: value for key, value in REFERENCE.items()
                if key.startswith("densenet_tiny.state.")}
    assert list(state) == list(expected)  # torchvision's keys, in its order
    for key, value in state.items():
        assert value.numpy().dtype == expected[key].dtype, key
        np.testing.assert_array_equal(value.numpy(), expected[key], err_msg=key)
    model = tiny_densenet()
    model.load_state_dict(state)
    model.eval()
    logits = model(mt.tensor(REFERENCE["densenet_tiny.input"])).detach().numpy()
    # float32 forward passes of two libraries: summation orders differ
    np.testing.assert_allclose(logits, REFERENCE["densenet_tiny.logits"], rtol=1e-5, atol=1e-5)


def test_every_dtype_views_and_containers_of_a_checkpoint_dict():
    loaded = formats.load_torch(DATA / "mixed.pt")
    assert loaded["epoch"] == 3 and loaded["lr"] == 0.05 and loaded["name"] == "mixed"
    assert loaded["flags"] == (True, None, -1)
    for key, value in loaded["tensors"].items():
        expected = REFERENCE[f"mixed.{key}"]
        array = value.numpy()
        assert array.dtype == expected.dtype and array.shape == expected.shape, key
        np.testing.assert_array_equal(array, expected, err_msg=key)
        assert array.flags.c_contiguous and array.flags.writeable, key
    assert loaded["tensors"]["bf16"].dtype == np.float32  # widened exactly
    first, second = loaded["shared"]
    assert first is second  # shared in the pickle, shared after loading
    np.testing.assert_array_equal(first.numpy(), REFERENCE["mixed.shared"])
    assert loaded["nested"]["deep"][0]["value"].numpy().tolist() == [2]


def test_a_file_object_reads_like_a_path():
    with open(DATA / "mixed.pt", "rb") as file:
        loaded = formats.load_torch(file)
    assert loaded["epoch"] == 3


# ------------------------------------------------------------------ crafted pickles
def evil_payloads(marker):
    """Pickles that would create ``marker`` if they were run."""
    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    code = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system via __reduce__": pickle.dumps(Evil(), protocol=2),
        "builtins.exec": c.program(c.call(c.global_("builtins", "exec"), c.string(code))),
        "a tensor rebuild around eval": c.program(c.dict_([(c.string("w"), c.call(
            c.global_("builtins", "eval"), c.string(code)))])),
    }


@pytest.mark.parametrize("layout", ["zip", "legacy"])
@pytest.mark.parametrize("case", ["os.system via __reduce__", "builtins.exec",
                                  "a tensor rebuild around eval"])
def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path, layout, case):
    marker = tmp_path / "pwned"
    payload = evil_payloads(marker)[case]
    data = c.torch_zip(payload) if layout == "zip" else c.legacy_file(payload)
    path = tmp_path / "evil.pt"
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as error:
        formats.load_torch(path)
    message = str(error.value)
    assert str(path) in message and "refused" in message and "nothing from the file was run" in message
    assert ("system" in message) or ("exec" in message) or ("eval" in message)
    assert not marker.exists()


def crafted(tmp_path, payload, storages=(), **kwargs):
    path = tmp_path / "crafted.pt"
    path.write_bytes(c.torch_zip(c.program(payload), storages, **kwargs))
    return path


def four_floats():
    return {"0": np.arange(4, dtype="<f4").tobytes()}


def test_a_hand_made_state_dict_loads(tmp_path):
    payload = c.dict_([(c.string("w"), c.tensor(c.storage("0", 4), 1, (2,), (2,)))])
    loaded = formats.load_torch(crafted(tmp_path, payload, four_floats()))
    assert loaded["w"].numpy().tolist() == [1.0, 3.0]  # storage[1 + 2 i]


@pytest.mark.parametrize("size, stride, offset, problem", [
    ((3,), (2,), 0, "reads past the end"),       # indices 0, 2, 4 of 4 elements
    ((2,), (1,), 3, "reads past the end"),
    ((10**6,), (0,), 0, "elements views a storage"),  # a zero stride cannot blow up
])
def test_a_tensor_outside_its_storage_is_refused(tmp_path, size, stride, offset, problem):
    payload = c.tensor(c.storage("0", 4), offset, size, stride)
    with pytest.raises(CheckpointError, match=problem):
        formats.load_torch(crafted(tmp_path, payload, four_floats()))


def test_many_tensors_on_one_storage_hit_the_expansion_cap(tmp_path):
    big = {"0": np.zeros(2**18, dtype="<f4").tobytes()}  # 1 MiB
    whole = c.tensor(c.storage("0", 2**18), 0, (2**18,), (1,))
    payload = c.list_([whole] * 8)
    with pytest.raises(CheckpointError, match="times the bytes of its storages"):
        formats.load_torch(crafted(tmp_path, payload, big))


@pytest.mark.parametrize("payload, problem", [
    (c.tensor(c.string("not a storage"), 0, (1,), (1,)), "persistent id"),
    (c.tuple_(c.string("module"), c.integer(1)) + c.BINPERSID, "unknown persistent id"),
    (c.tensor(c.storage("0", 4), -1, (1,), (1,)), "storage_offset"),
    (c.tensor(c.storage("0", 4), 0, (2, 2), (1,)), "different lengths"),
    (c.call(c.global_("torch", "FloatStorage")), "cannot be read"),  # not callable
    (c.global_("torch", "Tensor") + c.tuple_() + c.REDUCE, "cannot be read"),
    (c.ordered_dict() + c.dict_([(c.string("__class__"), c.NONE)]) + c.BUILD,
     "unexpected attributes"),
    (c.tensor(c.storage("0", 4), 0, (1,), (1,)) + c.dict_([(c.string("x"), c.NONE)]) + c.BUILD,
     "unexpected state"),
])
def test_malformed_rebuilds_are_refused(tmp_path, payload, problem):
    with pytest.raises(CheckpointError, match=problem):
        formats.load_torch(crafted(tmp_path, payload, four_floats()))


def test_shared_references_do_not_expand(tmp_path):
    # 40 levels of a list holding the previous level twice: 2**40 leaves if expanded.
    ops = c.list_([c.integer(1)]) + b"p0\n"
    for level in range(40):
        ops += c.EMPTY_LIST + c.MARK + b"g%d\ng%d\n" % (level, level) + c.APPENDS + b"p%d\n" % (level + 1)
    loaded = formats.load_torch(crafted(tmp_path, ops))
    assert loaded[0] is loaded[1] and len(loaded) == 2


def test_deep_nesting_is_an_error_not_a_recursion_error(tmp_path):
    # 1000 empty lists on the stack, each APPEND ("a") puts the top one into the next
    ops = c.EMPTY_LIST * 1000 + b"a" * 999
    with pytest.raises(CheckpointError, match="nested deeper"):
        formats.load_torch(crafted(tmp_path, ops))


def test_storage_of_the_wrong_length_or_missing(tmp_path):
    payload = c.tensor(c.storage("0", 8), 0, (8,), (1,))
    with pytest.raises(CheckpointError, match="holds 16 bytes"):
        formats.load_torch(crafted(tmp_path, payload, four_floats()))
    with pytest.raises(CheckpointError, match="is missing"):
        formats.load_torch(crafted(tmp_path, payload, {}))


def test_compressed_members_torchscript_and_foreign_files_are_refused(tmp_path):
    payload = c.program(c.NONE)
    path = tmp_path / "x.pt"
    path.write_bytes(c.torch_zip(payload, compression=zipfile.ZIP_DEFLATED))
    with pytest.raises(CheckpointError, match="compressed"):
        formats.load_torch(path)
    path.write_bytes(c.torch_zip(payload, extra=[("constants.pkl", b"")]))
    with pytest.raises(CheckpointError, match="TorchScript"):
        formats.load_torch(path)
    path.write_bytes(b"hello, not a checkpoint")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        formats.load_torch(path)


@pytest.mark.parametrize("name", ["densenet_tiny.pt", "densenet_tiny_legacy.pt", "mixed.pt"])
def test_truncated_files_raise_checkpoint_error(name):
    data = (DATA / name).read_bytes()
    for length in sorted({0, 1, 10, 30, 100, len(data) // 3, len(data) // 2, len(data) - 100,
                          len(data) - 1}):
        with pytest.raises(CheckpointError, match="<BytesIO>"):
            formats.load_torch(io.BytesIO(data[:length]))


@pytest.mark.parametrize("name", ["densenet_tiny.pt", "densenet_tiny_legacy.pt"])
def test_corrupt_bytes_raise_checkpoint_error_or_load_the_same_structure(name):
    """Every 97th byte flipped in turn: a CheckpointError, or (a flipped byte inside a
    legacy file's raw storage, which has no checksum) the same keys with other values."""
    data = (DATA / name).read_bytes()
    keys = list(formats.load_torch(io.BytesIO(data)))
    for position in range(0, len(data), 97):
        corrupt = bytearray(data)
        corrupt[position] ^= 0xFF
        try:
            loaded = formats.load_torch(io.BytesIO(bytes(corrupt)))
        except CheckpointError:
            continue
        assert list(loaded) == keys, position


def test_legacy_storage_count_and_length_are_checked(tmp_path):
    payload = c.program(c.tensor(c.storage("k", 4), 0, (4,), (1,)))
    raw = np.arange(4, dtype="<f4").tobytes()
    path = tmp_path / "legacy.pt"
    path.write_bytes(c.legacy_file(payload, [("k", 4, raw)]))
    assert formats.load_torch(path).numpy().tolist() == [0, 1, 2, 3]
    path.write_bytes(c.legacy_file(payload, [("k", 5, raw)]))
    with pytest.raises(CheckpointError, match="has 5 elements"):
        formats.load_torch(path)
    huge = c.program(c.tensor(c.storage("k", 2**40), 0, (4,), (1,)))
    path.write_bytes(c.legacy_file(huge, [("k", 2**40, raw)]))
    with pytest.raises(CheckpointError, match="is truncated"):  # before allocating 4 TiB
        formats.load_torch(path)
    path.write_bytes(c.legacy_file(payload, [("other", 4, raw)]))
    with pytest.raises(CheckpointError, match="storage keys"):
        formats.load_torch(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        formats.load_torch(DATA / "missing.pt")
