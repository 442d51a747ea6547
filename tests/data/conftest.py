"""The real data sets, loaded once per test session (MNIST takes ~0.4 s to decode)."""
import tarfile

import pytest

from minitorch_cv import data

CIFAR_SUBSET = "cifar-10-subset-python.tar.gz"


@pytest.fixture(scope="session")
def cifar_archive(data_dir):
    path = data_dir / CIFAR_SUBSET
    if not path.is_file():
        pytest.skip(f"{CIFAR_SUBSET} is not in {data_dir}")
    return path


@pytest.fixture(scope="session")
def cifar_extracted(cifar_archive, tmp_path_factory):
    """The subset archive extracted into a temporary folder (holds cifar-10-batches-py/)."""
    root = tmp_path_factory.mktemp("cifar_extracted")
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.10.12
    with tarfile.open(cifar_archive) as tar:
        tar.extractall(root, **safe)
    return root


@pytest.fixture(scope="session")
def cifar_train(cifar_archive):
    return data.CIFAR10(cifar_archive, train=True)


@pytest.fixture(scope="session")
def cifar_test(cifar_archive):
    return data.CIFAR10(cifar_archive, train=False)


def _load(cls, data_dir, folder, train):
    if not (data_dir / folder).is_dir():
        pytest.skip(f"{folder}/ is not in {data_dir}")
    return cls(data_dir, train=train)


@pytest.fixture(scope="session")
def mnist_train(data_dir):
    return _load(data.MNIST, data_dir, "mnist", True)


@pytest.fixture(scope="session")
def mnist_test(data_dir):
    return _load(data.MNIST, data_dir, "mnist", False)


@pytest.fixture(scope="session")
def fashion_train(data_dir):
    return _load(data.FashionMNIST, data_dir, "fashion-mnist", True)


@pytest.fixture(scope="session")
def fashion_test(data_dir):
    return _load(data.FashionMNIST, data_dir, "fashion-mnist", False)
