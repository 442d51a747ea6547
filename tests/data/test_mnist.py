"""MNIST / Fashion-MNIST on the real IDX files, their layouts, and the IDX parser."""
import gzip
import os

import numpy as np
import pytest

from minitorch_cv import data
from minitorch_cv.data.idx import parse_idx, read_idx

from .fakes import idx_bytes, write_mnist_folder

# The official per-class counts of MNIST.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _raw_idx(path):
    """Independent decoding: gunzip and skip the header by hand."""
    payload = gzip.decompress(path.read_bytes())
    ndim = payload[3]
    return np.frombuffer(payload, dtype=np.uint8, offset=4 + 4 * ndim)


def test_mnist_train(mnist_train, data_dir):
    assert len(mnist_train) == 60000
    assert mnist_train.data.shape == (60000, 1, 28, 28) and mnist_train.data.dtype == np.uint8
    assert mnist_train.targets.dtype == np.int64
    assert np.bincount(mnist_train.targets, minlength=10).tolist() == MNIST_TRAIN_COUNTS
    raw_images = _raw_idx(data_dir / "mnist" / "train-images-idx3-ubyte.gz")
    assert np.array_equal(mnist_train.data.reshape(-1), raw_images)
    raw_labels = _raw_idx(data_dir / "mnist" / "train-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(mnist_train.targets, raw_labels)


def test_mnist_test(mnist_test):
    assert mnist_test.data.shape == (10000, 1, 28, 28)
    assert np.bincount(mnist_test.targets, minlength=10).tolist() == MNIST_TEST_COUNTS


def test_fashion_mnist(fashion_train, fashion_test, mnist_train):
    assert fashion_train.data.shape == (60000, 1, 28, 28) and fashion_train.data.dtype == np.uint8
    assert fashion_test.data.shape == (10000, 1, 28, 28)
    # Fashion-MNIST is balanced: 6,000 / 1,000 images per class.
    assert np.bincount(fashion_train.targets, minlength=10).tolist() == [6000] * 10
    assert np.bincount(fashion_test.targets, minlength=10).tolist() == [1000] * 10
    assert fashion_train.classes[0] == "T-shirt/top" and fashion_train.classes[9] == "Ankle boot"
    assert not np.array_equal(fashion_train.data[:10], mnist_train.data[:10])


def _mean_std(pixels):
    """Mean and std of uint8 pixels / 255 (47M values: sums in chunks, via BLAS dots)."""
    flat = pixels.reshape(-1)
    total = int(flat.sum(dtype=np.uint64))
    squares = 0.0
    for start in range(0, flat.size, 1 << 20):  # float32 dots of 1M values: rel. error ~1e-6
        chunk = flat[start : start + (1 << 20)].astype(np.float32)
        squares += float(np.dot(chunk, chunk))
    mean = total / flat.size
    return mean / 255, np.sqrt(squares / flat.size - mean**2) / 255


def test_statistics_constants(mnist_train, fashion_train):
    cases = [
        (mnist_train, data.MNIST_MEAN, data.MNIST_STD),
        (fashion_train, data.FASHION_MNIST_MEAN, data.FASHION_MNIST_STD),
    ]
    for dataset, mean, std in cases:
        actual_mean, actual_std = _mean_std(dataset.data)
        assert abs(actual_mean - mean[0]) < 1e-3 and abs(actual_std - std[0]) < 1e-3


def test_getitem(mnist_test):
    image, label = mnist_test[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.uint8
    assert label == int(mnist_test.targets[0]) and isinstance(label, int)


def test_layouts(data_dir, mnist_test, tmp_path):
    direct = data.MNIST(data_dir / "mnist", train=False)
    np.testing.assert_array_equal(direct.data, mnist_test.data)
    # torchvision's layout, with symlinks to the real files
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        os.symlink(data_dir / "mnist" / (stem + ".gz"), raw / (stem + ".gz"))
    torchvision_layout = data.MNIST(tmp_path, train=False)
    np.testing.assert_array_equal(torchvision_layout.targets, mnist_test.targets)


def test_uncompressed_files(tmp_path):
    arrays = write_mnist_folder(tmp_path, compress=False)
    loaded = data.MNIST(tmp_path, train=True)
    np.testing.assert_array_equal(loaded.data[:, 0], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(loaded.targets, arrays["train-labels-idx1-ubyte"])


def test_root_from_environment(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path / "mnist")
    monkeypatch.setenv("MINITORCH_CV_DATA", str(tmp_path))
    assert len(data.MNIST(train=False)) == 4


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as caught:
        data.FashionMNIST(tmp_path, train=True)
    message = str(caught.value)
    expected_parts = [
        "Fashion-MNIST",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        str(tmp_path / "fashion-mnist"),
        "MINITORCH_CV_DATA",
        "--data-dir",
    ]
    for expected in expected_parts:
        assert expected in message


def test_damaged_known_file_fails_its_checksum(data_dir, tmp_path):
    for stem in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / stem).write_bytes((data_dir / "mnist" / stem).read_bytes())
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    payload = bytearray(labels.read_bytes())
    payload[100] ^= 0x01  # same name, same size, one bit different
    labels.write_bytes(bytes(payload))
    with pytest.raises(data.DatasetCorruptError, match="md5 checksum mismatch"):
        data.MNIST(tmp_path, train=False)


# ---------------------------------------------------------------- corrupt IDX files
def _write_split(tmp_path, images_payload=None, labels_payload=None):
    write_mnist_folder(tmp_path)
    if images_payload is not None:
        (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(images_payload)
    if labels_payload is not None:
        (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(labels_payload)


def test_wrong_magic_number(tmp_path):
    images = np.zeros((4, 28, 28), np.uint8)
    bad = bytearray(idx_bytes(images))
    bad[2] = 0x07  # no such IDX type
    _write_split(tmp_path, images_payload=gzip.compress(bytes(bad)))
    with pytest.raises(data.DatasetCorruptError, match="bad IDX magic number 0x00000703"):
        data.MNIST(tmp_path, train=False)


def test_truncated_idx_data(tmp_path):
    payload = idx_bytes(np.zeros((4, 28, 28), np.uint8))[:-10]
    _write_split(tmp_path, images_payload=gzip.compress(payload))
    with pytest.raises(data.DatasetCorruptError, match="IDX data truncated"):
        data.MNIST(tmp_path, train=False)


def test_truncated_gzip_stream(tmp_path):
    payload = gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8)))
    _write_split(tmp_path, images_payload=payload[: len(payload) // 2])
    with pytest.raises(data.DatasetCorruptError, match="damaged gzip data"):
        data.MNIST(tmp_path, train=False)


def test_label_count_must_match(tmp_path):
    labels = idx_bytes(np.zeros(3, np.uint8))  # 3 labels for 4 images
    _write_split(tmp_path, labels_payload=gzip.compress(labels))
    with pytest.raises(data.DatasetCorruptError, match="expected 4 uint8 labels"):
        data.MNIST(tmp_path, train=False)


def test_labels_out_of_range(tmp_path):
    labels = idx_bytes(np.array([0, 1, 2, 10], np.uint8))
    _write_split(tmp_path, labels_payload=gzip.compress(labels))
    with pytest.raises(data.DatasetCorruptError, match="labels outside"):
        data.MNIST(tmp_path, train=False)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc", "bad IDX magic"),
        (b"\x00\x00\x08\x00", "bad IDX magic"),  # zero dimensions
        (b"\x00\x00\x08\x03" + (3).to_bytes(4, "big"), "truncated IDX header"),
        (b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"abcd", "trailing bytes"),
    ],
)
def test_parse_idx_errors(payload, message):
    with pytest.raises(data.DatasetCorruptError, match=message):
        parse_idx(payload, "test.idx")


@pytest.mark.parametrize(
    "type_code, dtype",
    [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
     (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)],
)  # fmt: skip
def test_parse_idx_types_and_byte_order(type_code, dtype):
    first = 0 if np.dtype(dtype).kind == "u" else -3  # signed types get negative values
    values = np.arange(first, first + 12).reshape(2, 3, 2)
    parsed = parse_idx(idx_bytes(values, type_code), "test.idx")
    assert parsed.shape == (2, 3, 2) and parsed.dtype == np.dtype(dtype)
    assert parsed.dtype.isnative
    np.testing.assert_array_equal(parsed, values)


def test_read_idx_gzip_and_plain(tmp_path):
    values = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "plain").write_bytes(idx_bytes(values))
    (tmp_path / "packed.gz").write_bytes(gzip.compress(idx_bytes(values)))
    np.testing.assert_array_equal(read_idx(tmp_path / "plain"), values)
    np.testing.assert_array_equal(read_idx(tmp_path / "packed.gz"), values)
