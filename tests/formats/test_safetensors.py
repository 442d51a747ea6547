"""safetensors files: those the reference library wrote (benchmarks/make_weight_files.py)
load with their values, our writer's bytes are the reference writer's, and malformed
headers, truncated and corrupt files raise CheckpointError naming the file."""
import io
import json
import pathlib
import struct

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import formats, models
from minitorch_cv.serialization import CheckpointError

DATA = pathlib.Path(__file__).parent / "data"
REFERENCE = np.load(DATA / "reference.npz")


def tiny_vit():
    return models.VisionTransformer(image_size=16, patch_size=8, num_layers=1, num_heads=2,
                                    hidden_dim=8, mlp_dim=16, num_classes=5)


def test_torchvision_vit_weights_load_into_our_model_with_torchs_outputs():
    state = formats.load_safetensors(DATA / "vit_tiny.safetensors")
    model = tiny_vit()
    assert set(state) == set(model.state_dict())
    for key, value in state.items():
        np.testing.assert_array_equal(value.numpy(), REFERENCE[f"vit_tiny.state.{key}"], err_msg=key)
    model.load_state_dict(state)
    model.eval()
    logits = model(mt.tensor(REFERENCE["vit_tiny.input"])).detach().numpy()
    np.testing.assert_allclose(logits, REFERENCE["vit_tiny.logits"], rtol=1e-5, atol=1e-5)
    assert formats.safetensors_metadata(DATA / "vit_tiny.safetensors") == {
        "format": "pt", "model": "vit_tiny"}


def test_every_dtype_with_bfloat16_widened():
    state = formats.load_safetensors(DATA / "mixed.safetensors")
    assert len(state) == 12
    for key, value in state.items():
        expected = REFERENCE[f"mixed.{key}"]
        assert value.numpy().dtype == expected.dtype and value.shape == expected.shape, key
        np.testing.assert_array_equal(value.numpy(), expected, err_msg=key)


def test_a_dtype_our_tensors_lack_is_refused_by_name():
    with pytest.raises(CheckpointError, match="'U16'.*cannot hold"):
        formats.load_safetensors(DATA / "uint16.safetensors")


def test_our_writer_writes_the_reference_writers_bytes(tmp_path):
    path = DATA / "vit_tiny.safetensors"
    state = formats.load_safetensors(path)
    ours = tmp_path / "ours.safetensors"
    formats.save_safetensors(state, ours, metadata=formats.safetensors_metadata(path))
    assert ours.read_bytes() == path.read_bytes()


def test_round_trip_of_a_state_dict_and_numpy_arrays(tmp_path):
    model = models.resnet20(num_classes=3)
    path = tmp_path / "resnet20.safetensors"
    formats.save_safetensors(model.state_dict(), path)
    other = models.resnet20(num_classes=3)
    other.load_state_dict(formats.load_safetensors(path))
    for (key, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=key)
    buffer = io.BytesIO()
    arrays = {"big_endian": np.arange(3, dtype=">i4"), "scalar": np.float64(2.5),
              "t": np.ones((2, 3), dtype=np.float32).T}
    formats.save_safetensors(arrays, buffer)
    buffer.seek(0)
    loaded = formats.load_safetensors(buffer)
    assert loaded["big_endian"].numpy().tolist() == [0, 1, 2]
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2.5
    assert loaded["t"].shape == (3, 2)


@pytest.mark.parametrize("tensors, error, match", [
    ([1, 2], TypeError, "dict of named tensors"),
    ({1: np.zeros(1)}, TypeError, "strings"),
    ({"__metadata__": np.zeros(1)}, ValueError, "reserved"),
    ({"c": np.zeros(1, dtype=np.complex64)}, TypeError, "complex64"),
])
def test_writer_refuses_what_the_format_cannot_hold(tensors, error, match):
    with pytest.raises(error, match=match):
        formats.save_safetensors(tensors, io.BytesIO())


def file_with_header(header, data=b""):
    text = json.dumps(header).encode()
    return io.BytesIO(struct.pack("<Q", len(text)) + text + data)


@pytest.mark.parametrize("header, data, match", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "take 8 bytes"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, "has 4 bytes"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "gap or overlap"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
      "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, "gap or overlap"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}, b"", "shape"),
    ({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}, b"\0" * 4, "shape"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 4, "data_offsets"),
    ({"a": {"dtype": "X9", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, "dtype 'X9'"),
    ({"a": {"dtype": "F32", "shape": [1]}}, b"", "not {dtype, shape, data_offsets}"),
    ({"a": [1, 2]}, b"", "not {dtype, shape, data_offsets}"),
    ({"__metadata__": {"k": 1}}, b"", "__metadata__"),
    ([1, 2], b"", "not a JSON object"),
])
def test_malformed_headers_are_refused(header, data, match):
    with pytest.raises(CheckpointError, match=match):
        file = file_with_header(header, data)
        formats.load_safetensors(file)
        file.seek(0)
        formats.safetensors_metadata(file)


def test_header_length_is_checked_before_reading():
    huge = io.BytesIO(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(CheckpointError, match="header claims"):
        formats.load_safetensors(huge)
    with pytest.raises(CheckpointError, match="not JSON"):
        formats.load_safetensors(io.BytesIO(struct.pack("<Q", 3) + b"\xff{}"))


def test_truncated_and_corrupt_files():
    data = (DATA / "mixed.safetensors").read_bytes()
    for length in (0, 5, 8, 20, len(data) // 2, len(data) - 1):
        with pytest.raises(CheckpointError, match="<BytesIO>"):
            formats.load_safetensors(io.BytesIO(data[:length]))
    header_length = struct.unpack("<Q", data[:8])[0]
    for position in range(8, 8 + header_length, 7):  # a flipped byte in the header
        corrupt = bytearray(data)
        corrupt[position] ^= 0x5A
        try:
            loaded = formats.load_safetensors(io.BytesIO(bytes(corrupt)))
        except CheckpointError:
            continue
        assert len(loaded) <= 12  # a flip inside a name or a metadata string is harmless
