"""MNIST and Fashion-MNIST from the official IDX files (see ``idx.py``).

Both ship four files with the same names,

    train-images-idx3-ubyte.gz  (60000, 28, 28) uint8     train-labels-idx1-ubyte.gz (60000,)
    t10k-images-idx3-ubyte.gz   (10000, 28, 28) uint8     t10k-labels-idx1-ubyte.gz  (10000,)

(uncompressed copies without ``.gz`` are accepted too). ``root`` may be the folder
holding them, or a parent holding ``mnist/`` / ``fashion-mnist/`` (the layout of
../shared/data) or torchvision's ``MNIST/raw/`` / ``FashionMNIST/raw/``; ``root=None``
means ``$MINITORCH_CV_DATA``, else the download cache ``~/.cache/minitorch_cv``.
``download=True`` fetches missing files into
``root/mnist`` (``root/fashion-mnist``) from the official mirror, checking torchvision's
MD5 sums.

``data`` is uint8 (N, 1, 28, 28): channel-first with one channel, so it is a network
input as it is (torchvision keeps (N, 28, 28)); ``targets`` int64 (N,).
"""
import os

import numpy as np

from .download import download_url, verify_known_file
from .errors import (
    DatasetCorruptError,
    DatasetNotFoundError,
    DownloadError,
    default_root,
    not_found_message,
)
from .idx import read_idx
from .vision import ImageArrayDataset

_SPLITS = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class MNIST(ImageArrayDataset):
    """MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 gray.

    train: which split. transform: see ``vision.py``. verify: check the files against the
    known digests (see ``download.py``, "Checksums on load").
    """

    name = "MNIST"
    folders = ("mnist", os.path.join("MNIST", "raw"), "MNIST")
    mirror = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    md5 = {  # the official files (torchvision's sums)
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    # The copies in ../shared/data are the official files byte for byte.
    known_files = {
        "train-images-idx3-ubyte.gz": [(9912422, "md5", md5["train-images-idx3-ubyte.gz"])],
        "train-labels-idx1-ubyte.gz": [(28881, "md5", md5["train-labels-idx1-ubyte.gz"])],
        "t10k-images-idx3-ubyte.gz": [(1648877, "md5", md5["t10k-images-idx3-ubyte.gz"])],
        "t10k-labels-idx1-ubyte.gz": [(4542, "md5", md5["t10k-labels-idx1-ubyte.gz"])],
    }
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

    def __init__(self, root=None, train=True, download=False, transform=None, verify=True):
        root = default_root(root)
        self.train = bool(train)
        stems = _SPLITS[self.train]
        folder = self._find_folder(root, stems)
        if folder is None and download:
            folder = self._download(root, stems)
        if folder is None:
            raise DatasetNotFoundError(self._not_found(root, stems))
        images_path, labels_path = (self._file(folder, stem) for stem in stems)
        if verify:
            verify_known_file(images_path, self.known_files)
            verify_known_file(labels_path, self.known_files)
        images = read_idx(images_path)
        labels = read_idx(labels_path)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise DatasetCorruptError(
                f"{images_path}: expected uint8 images (N, H, W), got {images.dtype} {images.shape}"
            )
        if labels.dtype != np.uint8 or labels.shape != (images.shape[0],):
            raise DatasetCorruptError(
                f"{labels_path}: expected {images.shape[0]} uint8 labels (one per image in "
                f"{os.path.basename(images_path)}), got {labels.dtype} {labels.shape}"
            )
        if labels.size and labels.max() >= len(self.classes):
            raise DatasetCorruptError(f"{labels_path}: labels outside 0..{len(self.classes) - 1}")
        self.source = folder
        super().__init__(images[:, None], labels.astype(np.int64), self.classes, transform)

    # ------------------------------------------------------------------ finding files
    @staticmethod
    def _file(folder, stem):
        """The path of ``stem`` in ``folder``: the .gz file, else the uncompressed one."""
        for candidate in (stem + ".gz", stem):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _candidates(self, root):
        return [root] + [os.path.join(root, sub) for sub in self.folders]

    def _find_folder(self, root, stems):
        for folder in self._candidates(root):
            if all(self._file(folder, stem) is not None for stem in stems):
                return folder
        return None

    def _not_found(self, root, stems, hint=None):
        files = ", ".join(stem + ".gz" for stem in stems)
        layouts = [f"<root>/{files}"] + [f"<root>/{sub}/{files}" for sub in self.folders]
        hint = hint or f"Or pass download=True to fetch them from {self.mirror}."
        return not_found_message(self.name, self._candidates(root), layouts, hint)

    def _download(self, root, stems):
        folder = os.path.join(root, self.folders[0])
        for stem in stems:
            if self._file(folder, stem) is not None:
                continue
            name = stem + ".gz"
            try:
                download_url(self.mirror + name, os.path.join(folder, name), md5=self.md5[name])
            except DownloadError as error:
                hint = (
                    f"Downloading {self.mirror + name} failed ({error}); "
                    f"on a machine without internet access, copy the files to {folder}."
                )
                raise DatasetNotFoundError(self._not_found(root, stems, hint)) from error
        return folder


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao et al. 2017, Zalando): 28x28 gray images of 10 kinds of
    clothing, a drop-in replacement for MNIST with the same file names and sizes."""

    name = "Fashion-MNIST"
    folders = ("fashion-mnist", os.path.join("FashionMNIST", "raw"), "FashionMNIST")
    mirror = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    # The official files, and the copies in ../shared/data: the same images in gzip
    # streams a few bytes shorter (no file name in the gzip header), hence other digests;
    # their sha256 sums come from ../shared/data/README.md.
    known_files = {
        "train-images-idx3-ubyte.gz": [
            (26421880, "md5", md5["train-images-idx3-ubyte.gz"]),
            (
                26421856,
                "sha256",
                "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            ),
        ],
        "train-labels-idx1-ubyte.gz": [
            (29515, "md5", md5["train-labels-idx1-ubyte.gz"]),
            (
                29491,
                "sha256",
                "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            ),
        ],
        "t10k-images-idx3-ubyte.gz": [
            (4422102, "md5", md5["t10k-images-idx3-ubyte.gz"]),
            (
                4422079,
                "sha256",
                "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            ),
        ],
        "t10k-labels-idx1-ubyte.gz": [
            (5148, "md5", md5["t10k-labels-idx1-ubyte.gz"]),
            (
                5125,
                "sha256",
                "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
            ),
        ],
    }
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
