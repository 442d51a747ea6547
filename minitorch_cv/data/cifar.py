"""CIFAR-10 (Krizhevsky 2009) from the official "python version" files.

The official release is ``cifar-10-python.tar.gz`` holding ``cifar-10-batches-py/``:
``data_batch_1`` ... ``data_batch_5`` (10,000 training images each), ``test_batch``
(10,000) and ``batches.meta``. Each batch is a Python-2 pickle of a dict

    data         uint8 array (n, 3072): each row one 32x32 image, channel-major
                 (1024 red values row by row, then green, then blue)
    labels       list of n ints in 0..9
    batch_label  a description

so ``data.reshape(n, 3, 32, 32)`` is already NCHW. The pickles are read with the
restricted unpickler of ``safe_pickle`` (a crafted batch cannot run code).

``root`` may be: the archive itself (any .tar.gz/.tgz/.tar with this layout, e.g. the
``cifar-10-subset-python.tar.gz`` of ../shared/data, read directly without extracting);
the ``cifar-10-batches-py`` folder; a folder containing it; or a folder containing the
archive. ``root=None`` means ``$MINITORCH_CV_DATA``, or when that is not set the
download cache ``~/.cache/minitorch_cv`` (``errors.cache_dir``). ``download=True``
fetches the official archive into ``root`` (with a progress bar and its MD5 checked)
when none of these is found.
"""
import glob
import os

import numpy as np

from .download import download_url, read_tar_members, verify_known_file
from .errors import (
    DatasetCorruptError,
    DatasetNotFoundError,
    DownloadError,
    default_root,
    not_found_message,
)
from .files import open_regular, read_bounded
from .safe_pickle import safe_load_dict
from .vision import ImageArrayDataset

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
META_FILE = "batches.meta"

# Archives we can vouch for (see download.py, "Checksums on load"): the official one
# and the subset in ../shared/data (sha256 from its README).
KNOWN_FILES = {
    ARCHIVE: [(170498071, "md5", ARCHIVE_MD5)],
    "cifar-10-subset-python.tar.gz": [
        (15614908, "sha256", "70ad95748969e59802228a440573a13aac445f5a439fa7ea468884b82377ab0d")
    ],
}

CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

# Per-channel mean and standard deviation of the CIFAR-10 training pixels in [0, 1]
# (over all 50,000 x 32 x 32 values of a channel). The often copied (0.2023, 0.1994,
# 0.2010) is a different quantity, the average of the per-image standard deviations;
# we use the true pixel statistics, which is what Normalize assumes. (The 4,660-image
# subset in ../shared/data gives mean (0.493, 0.484, 0.448), std (0.248, 0.244, 0.262).)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

# The largest files the format allows, with room to spare: a batch of 10,000 images is
# 31 MB (the official test_batch: 31,035,526 bytes), the whole official archive 186 MB
# decompressed. Anything larger is refused before it is read (a crafted 26 MB gzip member
# can decompress to 6 GB).
MAX_BATCH_BYTES = 64 << 20
MAX_ARCHIVE_BYTES = 512 << 20

_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_LAYOUTS = (
    f"<root>/{FOLDER}/{{data_batch_1..5, test_batch, batches.meta}}",
    f"<root>/{ARCHIVE} (or any .tar.gz holding {FOLDER}/, e.g. cifar-10-subset-python.tar.gz)",
    f"or pass the {FOLDER} folder or the archive itself as root",
)


def _locate(root):
    """("archive", path) or ("folder", path) for the first layout found, else None."""
    if os.path.isfile(root):
        if root.endswith(_ARCHIVE_SUFFIXES):
            return "archive", root
        raise DatasetNotFoundError(
            f"root: {root} is a file but not a .tar.gz/.tgz/.tar archive; expected a "
            f"folder or the CIFAR-10 python archive"
        )
    if not os.path.isdir(root):
        return None
    if any(os.path.isfile(os.path.join(root, name)) for name in TRAIN_FILES + TEST_FILES):
        return "folder", root
    if os.path.isdir(os.path.join(root, FOLDER)):
        return "folder", os.path.join(root, FOLDER)
    archives = [os.path.join(root, ARCHIVE)]
    for suffix in _ARCHIVE_SUFFIXES:
        # "cifar-10-*", not "cifar-10*", which would also match cifar-100-python.tar.gz
        archives += sorted(glob.glob(os.path.join(root, "cifar-10-*" + suffix)))
    for archive in archives:
        if os.path.isfile(archive):
            return "archive", archive
    return None


def _read_files(kind, path, names, verify):
    """{name: bytes} for the batch files ``names`` (plus ``batches.meta`` when present)
    from a folder or an archive."""
    if kind == "archive":
        if verify:
            verify_known_file(path, KNOWN_FILES)
        found = read_tar_members(
            path, lambda base: base in names or base == META_FILE, MAX_BATCH_BYTES, MAX_ARCHIVE_BYTES
        )
        missing = [name for name in names if name not in found]
        if missing:
            raise DatasetCorruptError(
                f"{path}: the archive has no {', '.join(missing)}; expected the CIFAR-10 "
                f"python layout {FOLDER}/{{data_batch_1..5, test_batch, batches.meta}}"
            )
        return found
    missing = [name for name in names if not os.path.isfile(os.path.join(path, name))]
    if missing:
        raise DatasetNotFoundError(
            f"{path}: missing {', '.join(missing)}.\n"
            + not_found_message("CIFAR-10", [path], _LAYOUTS, "")
        )
    found = {}
    for name in names + (META_FILE,):
        file_path = os.path.join(path, name)
        if os.path.isfile(file_path):
            with open_regular(file_path) as handle:
                found[name] = read_bounded(handle, MAX_BATCH_BYTES, file_path)
    return found


def _parse_batch(payload, source):
    """(images uint8 (n, 3, 32, 32), labels int64 (n,)) from one batch pickle."""
    batch = safe_load_dict(payload, source)
    if "data" not in batch or "labels" not in batch:
        raise DatasetCorruptError(
            f"{source}: expected keys 'data' and 'labels', found {sorted(batch)}"
        )
    data, labels = batch["data"], np.asarray(batch["labels"])
    is_rows = isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] == 3072
    if not is_rows or data.dtype != np.uint8:
        raise DatasetCorruptError(
            f"{source}: 'data' must be a uint8 array (n, 3072), got "
            f"{getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}"
        )
    if labels.shape != (data.shape[0],) or labels.dtype.kind not in "iu":
        raise DatasetCorruptError(
            f"{source}: 'labels' must be {data.shape[0]} integers, "
            f"got {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise DatasetCorruptError(f"{source}: labels outside 0..9")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _parse_classes(payload, source):
    meta = safe_load_dict(payload, source)
    names = meta.get("label_names")
    if not isinstance(names, list) or len(names) != len(CLASSES):
        raise DatasetCorruptError(f"{source}: expected 10 'label_names'")
    return [name.decode("latin1") if isinstance(name, bytes) else str(name) for name in names]


class CIFAR10(ImageArrayDataset):
    """CIFAR-10: ``data`` uint8 (N, 3, 32, 32) NCHW, ``targets`` int64 (N,), ``classes``.

    train: the five training batches (50,000 images in the official release) or the test
    batch (10,000). transform: applied per sample by ``__getitem__``, per batch by the
    loader's fast path (see ``vision.py``). verify: check a known archive's checksum.
    """

    def __init__(self, root=None, train=True, download=False, transform=None, verify=True):
        root = default_root(root)
        self.train = bool(train)
        location = _locate(root)
        if location is None and download:
            location = ("archive", self._download(root))
        if location is None:
            raise DatasetNotFoundError(
                not_found_message(
                    "CIFAR-10",
                    [root],
                    _LAYOUTS,
                    f"Or pass download=True to fetch {URL} ({ARCHIVE_MD5} MD5) into root.",
                )
            )
        kind, path = location
        names = TRAIN_FILES if self.train else TEST_FILES
        files = _read_files(kind, path, names, verify)
        images, labels = [], []
        for name in names:
            batch_images, batch_labels = _parse_batch(files[name], f"{path}:{name}")
            images.append(batch_images)
            labels.append(batch_labels)
        classes = CLASSES
        if META_FILE in files:
            classes = _parse_classes(files[META_FILE], f"{path}:{META_FILE}")
        self.source = path
        super().__init__(np.concatenate(images), np.concatenate(labels), classes, transform)

    @staticmethod
    def _download(root):
        """Fetch the official archive into the folder ``root``; its path."""
        target = os.path.join(root, ARCHIVE)
        try:
            return download_url(URL, target, md5=ARCHIVE_MD5)
        except DownloadError as error:
            raise DatasetNotFoundError(
                not_found_message(
                    "CIFAR-10",
                    [root],
                    _LAYOUTS,
                    f"Downloading {URL} failed ({error}); on a machine "
                    f"without internet access, copy {ARCHIVE} (MD5 {ARCHIVE_MD5}) to {target}.",
                )
            ) from error
