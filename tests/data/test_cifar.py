"""CIFAR10 on the real subset archive (../shared/data), its layouts, and bad files."""
import os
import pickle
import shutil

import numpy as np
import pytest

from minitorch_cv import data
from minitorch_cv.data import transforms as T

from .fakes import Exec, SystemCall, make_tar_gz, write_cifar_folder

OFFICIAL_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip
# Observed on the subset (the first 932 images of each training batch, the first 846 of
# the test batch); cross-checked against plain pickle in test_same_as_plain_pickle.
TRAIN_COUNTS = [479, 479, 444, 448, 489, 435, 464, 477, 481, 464]
TEST_COUNTS = [83, 70, 88, 84, 76, 79, 97, 87, 88, 94]


def _plain_pickle_arrays(folder, names):
    """Reference decoding with the unrestricted pickle module (the files are trusted)."""
    images, labels = [], []
    for name in names:
        with open(folder / name, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        images.append(batch[b"data"].reshape(-1, 3, 32, 32))
        labels += batch[b"labels"]
    return np.concatenate(images), np.array(labels)


def test_train_split_from_archive(cifar_train):
    assert len(cifar_train) == 4660
    assert cifar_train.data.shape == (4660, 3, 32, 32)
    assert cifar_train.data.dtype == np.uint8
    assert cifar_train.targets.dtype == np.int64
    assert cifar_train.classes == OFFICIAL_CLASSES
    counts = np.bincount(cifar_train.targets, minlength=10)
    assert counts.tolist() == TRAIN_COUNTS
    assert counts.sum() == 4660 and (counts > 0).all()


def test_test_split_from_archive(cifar_test):
    assert len(cifar_test) == 846
    assert cifar_test.data.shape == (846, 3, 32, 32)
    counts = np.bincount(cifar_test.targets, minlength=10)
    assert counts.tolist() == TEST_COUNTS
    assert counts.sum() == 846 and (counts > 0).all()


@pytest.mark.parametrize("train", [True, False])
def test_same_as_plain_pickle(train, cifar_train, cifar_test, cifar_extracted):
    dataset = cifar_train if train else cifar_test
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    images, labels = _plain_pickle_arrays(cifar_extracted / "cifar-10-batches-py", names)
    np.testing.assert_array_equal(dataset.data, images)
    np.testing.assert_array_equal(dataset.targets, labels)


def test_all_layouts_give_the_same_data(cifar_test, cifar_extracted, data_dir):
    folder = cifar_extracted / "cifar-10-batches-py"
    for root in (cifar_extracted, folder, str(folder), data_dir):
        loaded = data.CIFAR10(root, train=False)
        np.testing.assert_array_equal(loaded.data, cifar_test.data)
        np.testing.assert_array_equal(loaded.targets, cifar_test.targets)


def test_root_from_environment_then_the_cache(cifar_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_CV_DATA", str(cifar_archive))
    assert len(data.CIFAR10(train=False)) == 846
    monkeypatch.delenv("MINITORCH_CV_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(data.DatasetNotFoundError) as caught:
        data.CIFAR10(train=False)
    assert str(tmp_path / "minitorch_cv") in str(caught.value)
    assert "MINITORCH_CV_DATA" in str(caught.value)


def test_getitem(cifar_test):
    image, label = cifar_test[5]
    assert image.shape == (3, 32, 32) and image.dtype == np.uint8
    assert isinstance(label, int) and label == cifar_test.targets[5]
    np.testing.assert_array_equal(image, cifar_test.data[5])


def test_getitem_with_transform(cifar_archive, cifar_test):
    normalized = data.CIFAR10(cifar_archive, train=False, transform=T.Normalize(0.5, 0.25))
    image, label = normalized[3]
    assert image.dtype == np.float32 and image.shape == (3, 32, 32)
    np.testing.assert_allclose(image, (cifar_test.data[3] / 255 - 0.5) / 0.25, rtol=1e-6, atol=1e-6)


def test_channel_statistics_constants(cifar_train):
    """The subset's per-channel pixel statistics are close to the full set's constants."""
    pixels = cifar_train.data
    n = pixels.size // 3
    sums = pixels.sum(axis=(0, 2, 3), dtype=np.uint64).astype(np.float64)  # exact integers
    squares = (pixels.astype(np.uint32) ** 2).sum(axis=(0, 2, 3), dtype=np.uint64)
    squares = squares.astype(np.float64)
    mean = sums / n
    std = np.sqrt(squares / n - mean**2)
    np.testing.assert_allclose(mean / 255, data.CIFAR10_MEAN, atol=0.005)
    np.testing.assert_allclose(std / 255, data.CIFAR10_STD, atol=0.005)


# ---------------------------------------------------------------- missing files
def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as caught:
        data.CIFAR10(tmp_path)
    message = str(caught.value)
    for expected in (str(tmp_path), "cifar-10-batches-py", "data_batch_1", "cifar-10-python.tar.gz",
                     "MINITORCH_CV_DATA", "--data-dir", "download=True"):  # fmt: skip
        assert expected in message


def test_missing_batch_in_folder(cifar_extracted, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    shutil.copytree(cifar_extracted / "cifar-10-batches-py", folder)
    os.remove(folder / "data_batch_3")
    with pytest.raises(data.DatasetNotFoundError, match="data_batch_3"):
        data.CIFAR10(tmp_path)
    assert len(data.CIFAR10(tmp_path, train=False)) == 846  # the test split is complete


def test_root_file_that_is_not_an_archive(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(data.DatasetNotFoundError, match="not a .tar.gz"):
        data.CIFAR10(path)


# ---------------------------------------------------------------- corrupt archives
def test_truncated_archive(cifar_archive, tmp_path):
    truncated = tmp_path / "cifar-10-truncated.tar.gz"
    truncated.write_bytes(cifar_archive.read_bytes()[: 6_000_000])
    with pytest.raises(data.DatasetCorruptError, match="truncated or corrupt"):
        data.CIFAR10(truncated)


def test_damaged_known_archive_fails_its_checksum(cifar_archive, tmp_path):
    damaged = tmp_path / "cifar-10-subset-python.tar.gz"  # the known name and size
    payload = bytearray(cifar_archive.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    damaged.write_bytes(bytes(payload))
    with pytest.raises(data.DatasetCorruptError, match="sha256 checksum mismatch"):
        data.CIFAR10(damaged)
    # Without the checksum the gzip CRC still catches it (tarfile alone would stop before
    # the gzip trailer and hand out the damaged bytes).
    with pytest.raises(data.DatasetCorruptError, match="CRC check failed"):
        data.CIFAR10(damaged, verify=False)


def test_archive_without_the_layout(tmp_path):
    (tmp_path / "something").mkdir()
    (tmp_path / "something" / "readme.txt").write_text("not CIFAR")
    archive = make_tar_gz(tmp_path / "something", tmp_path / "other.tar.gz")
    with pytest.raises(data.DatasetCorruptError, match="has no data_batch_1"):
        data.CIFAR10(archive)


def test_batch_with_wrong_content(tmp_path):
    write_cifar_folder(tmp_path)
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as handle:
        pickle.dump({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, handle, protocol=2)
    with pytest.raises(data.DatasetCorruptError, match=r"uint8 array \(n, 3072\)"):
        data.CIFAR10(tmp_path, train=False)


def test_truncated_batch_pickle(tmp_path):
    write_cifar_folder(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(data.DatasetCorruptError, match="truncated or corrupt"):
        data.CIFAR10(tmp_path, train=False)


# ---------------------------------------------------------------- pickles written by Python 3
@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_python3_pickles_load(tmp_path, protocol):
    written = write_cifar_folder(tmp_path, protocol=protocol)
    train = data.CIFAR10(tmp_path, train=True)
    expected = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    np.testing.assert_array_equal(train.data.reshape(len(train), -1), expected)
    assert train.targets.tolist() == sum((written[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    assert train.classes == [f"class{i}" for i in range(10)]


def test_folder_and_archive_of_a_small_layout(tmp_path):
    written = write_cifar_folder(tmp_path / "extracted")
    archive = make_tar_gz(tmp_path / "extracted" / "cifar-10-batches-py", tmp_path / "mine.tar.gz")
    from_folder = data.CIFAR10(tmp_path / "extracted", train=False)
    from_archive = data.CIFAR10(archive, train=False)
    np.testing.assert_array_equal(from_folder.data, from_archive.data)
    np.testing.assert_array_equal(from_folder.data.reshape(4, -1), written["test_batch"][0])


# ---------------------------------------------------------------- malicious pickles
MALICIOUS = [
    pytest.param(lambda marker: SystemCall(f"touch {marker}"), ".system", id="os.system"),
    pytest.param(lambda marker: Exec(f"open({str(marker)!r}, 'w').close()"), ".exec", id="exec"),
]


@pytest.mark.parametrize("make_payload, refused_name", MALICIOUS)
def test_payload_is_real(tmp_path, make_payload, refused_name):
    """Sanity check of the test itself: plain pickle does run these payloads."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(make_payload(marker), protocol=2))
    assert marker.exists()


@pytest.mark.parametrize("as_archive", [False, True], ids=["folder", "archive"])
@pytest.mark.parametrize("make_payload, refused_name", MALICIOUS)
def test_malicious_pickle_is_refused_and_never_runs(
    tmp_path, make_payload, refused_name, as_archive
):
    marker = tmp_path / "payload_ran"
    layout = tmp_path / "layout"
    write_cifar_folder(layout)
    batch = {b"batch_label": b"evil", b"labels": [0], b"data": make_payload(marker)}
    with open(layout / "cifar-10-batches-py" / "data_batch_1", "wb") as handle:
        pickle.dump(batch, handle, protocol=2)
    root = layout
    if as_archive:
        root = make_tar_gz(layout / "cifar-10-batches-py", tmp_path / "evil.tar.gz")
    with pytest.raises(data.DatasetCorruptError) as caught:
        data.CIFAR10(root, train=True)
    assert "refused to unpickle" in str(caught.value)
    assert refused_name in str(caught.value)
    assert "data_batch_1" in str(caught.value)
    assert not marker.exists()


def test_object_array_is_refused(tmp_path):
    write_cifar_folder(tmp_path)
    evil = np.array([{"a": 1}, "text"], dtype=object)
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as handle:
        pickle.dump({b"data": evil, b"labels": [0, 1]}, handle, protocol=2)
    with pytest.raises(data.DatasetCorruptError, match="not a plain numeric type"):
        data.CIFAR10(tmp_path, train=False)


def test_cifar100_archive_is_not_mistaken_for_cifar10(tmp_path):
    (tmp_path / "cifar-100-python.tar.gz").write_bytes(b"not ours")
    with pytest.raises(data.DatasetNotFoundError):
        data.CIFAR10(tmp_path)


def test_per_sample_callable_transform_in_the_loader(cifar_archive, cifar_test):
    """A plain callable as the data set's transform: applied image by image."""
    flipped = data.CIFAR10(cifar_archive, train=False, transform=lambda image: image[:, :, ::-1])
    images, labels = next(iter(data.DataLoader(flipped, batch_size=5)))
    np.testing.assert_array_equal(images.numpy(), cifar_test.data[:5, :, :, ::-1])
