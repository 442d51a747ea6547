"""Downloads, offline: file:// URLs stand in for the servers, a closed port for no network."""
import hashlib
import io
import socket

import numpy as np
import pytest

from minitorch_cv import data
from minitorch_cv.data import cifar
from minitorch_cv.data.download import ProgressBar, download_url, file_digest, verify_known_file

from .fakes import make_tar_gz, write_cifar_folder, write_mnist_folder


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _closed_port_url(path):
    """An http:// address on this machine where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{path}"


@pytest.fixture
def fake_cifar_archive(tmp_path):
    written = write_cifar_folder(tmp_path / "server_files")
    folder = tmp_path / "server_files" / "cifar-10-batches-py"
    archive = make_tar_gz(folder, tmp_path / "served.tar.gz")
    return archive, written


def test_download_url_writes_checks_and_shows_progress(tmp_path, capsys):
    source = tmp_path / "source.bin"
    source.write_bytes(np.random.default_rng(0).bytes(3_000_000))
    target = tmp_path / "out" / "copy.bin"
    download_url(source.as_uri(), str(target), md5=_md5(source))
    assert target.read_bytes() == source.read_bytes()
    progress = capsys.readouterr().err
    assert "copy.bin" in progress and "100%" in progress and "3.0 MB/3.0 MB" in progress


def test_download_url_rejects_a_wrong_md5_and_leaves_nothing(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"not what you expected")
    target = tmp_path / "copy.bin"
    with pytest.raises(data.DatasetCorruptError, match="MD5"):
        download_url(source.as_uri(), str(target), md5="0" * 32, progress=False)
    assert not target.exists() and not (tmp_path / "copy.bin.part").exists()


def test_cifar_download(tmp_path, fake_cifar_archive, monkeypatch, capsys):
    archive, written = fake_cifar_archive
    monkeypatch.setattr(cifar, "URL", archive.as_uri())
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _md5(archive))
    root = tmp_path / "root"
    test_set = data.CIFAR10(root, train=False, download=True)
    assert (root / "cifar-10-python.tar.gz").read_bytes() == archive.read_bytes()
    np.testing.assert_array_equal(test_set.data.reshape(4, -1), written["test_batch"][0])
    assert "cifar-10-python.tar.gz" in capsys.readouterr().err  # the progress bar
    # Found on disk now: a second construction does not download again.
    monkeypatch.setattr(cifar, "URL", _closed_port_url("gone.tar.gz"))
    assert len(data.CIFAR10(root, train=True, download=True)) == 20


def test_cifar_download_with_a_wrong_md5(tmp_path, fake_cifar_archive, monkeypatch):
    archive, _ = fake_cifar_archive
    monkeypatch.setattr(cifar, "URL", archive.as_uri())
    with pytest.raises(data.DatasetCorruptError, match="MD5"):
        data.CIFAR10(tmp_path / "root", download=True)
    assert not (tmp_path / "root" / "cifar-10-python.tar.gz").exists()


def test_cifar_download_unreachable(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "URL", _closed_port_url("cifar-10-python.tar.gz"))
    with pytest.raises(data.DatasetNotFoundError) as caught:
        data.CIFAR10(tmp_path, download=True)
    message = str(caught.value)
    assert "Downloading" in message and "failed" in message
    assert str(tmp_path / "cifar-10-python.tar.gz") in message and "MINITORCH_CV_DATA" in message


def test_mnist_download(tmp_path, monkeypatch):
    server = tmp_path / "server"
    arrays = write_mnist_folder(server)
    md5 = {path.name: _md5(path) for path in server.iterdir()}
    monkeypatch.setattr(data.MNIST, "mirror", server.as_uri() + "/")
    monkeypatch.setattr(data.MNIST, "md5", md5)
    loaded = data.MNIST(tmp_path / "root", train=True, download=True)
    assert (tmp_path / "root" / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    np.testing.assert_array_equal(loaded.targets, arrays["train-labels-idx1-ubyte"])


def test_mnist_download_unreachable(tmp_path, monkeypatch):
    monkeypatch.setattr(data.FashionMNIST, "mirror", _closed_port_url(""))
    with pytest.raises(data.DatasetNotFoundError, match="fashion-mnist"):
        data.FashionMNIST(tmp_path, download=True)


def test_verify_known_file(tmp_path):
    path = tmp_path / "known.bin"
    path.write_bytes(b"abcdef")
    digest = file_digest(path, "sha256")
    assert verify_known_file(path, {"known.bin": [(6, "sha256", digest)]})
    # Another size: not checked (a re-compressed copy), structure checks happen later.
    assert not verify_known_file(path, {"known.bin": [(7, "sha256", "0" * 64)]})
    with pytest.raises(data.DatasetCorruptError, match="checksum mismatch"):
        verify_known_file(path, {"known.bin": [(6, "sha256", "0" * 64)]})


def test_shared_data_matches_its_readme(data_dir):
    """Every file of ../shared/data with a known digest passes (sha256 from its README)."""
    checked = 0
    for folder, known in (("mnist", data.MNIST.known_files),
                          ("fashion-mnist", data.FashionMNIST.known_files)):  # fmt: skip
        for name in known:
            checked += verify_known_file(data_dir / folder / name, known)
    checked += verify_known_file(data_dir / "cifar-10-subset-python.tar.gz", cifar.KNOWN_FILES)
    assert checked == 9


def test_progress_bar_without_total():
    stream = io.StringIO()
    bar = ProgressBar("file", total=0, stream=stream)
    bar.update(2_500_000)
    bar.close()
    assert "file 2.5 MB" in stream.getvalue()


def test_download_without_a_root_goes_to_the_cache(tmp_path, fake_cifar_archive, monkeypatch):
    archive, _ = fake_cifar_archive
    monkeypatch.setattr(cifar, "URL", archive.as_uri())
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _md5(archive))
    monkeypatch.delenv("MINITORCH_CV_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert len(data.CIFAR10(train=False, download=True)) == 4
    assert (tmp_path / "cache" / "minitorch_cv" / "cifar-10-python.tar.gz").is_file()
