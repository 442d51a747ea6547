"""Small files in the official formats, written by the tests (for layouts, corrupt and
malicious files, and downloads). Real data is in the ``data_dir`` fixture."""
import gzip
import os
import pickle
import tarfile

import numpy as np

BATCH_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def write_cifar_folder(root, images_per_batch=4, protocol=2, seed=0):
    """root/cifar-10-batches-py/ with six small batches and batches.meta, pickled by
    this Python with ``protocol``. Returns {batch name: (data (n, 3072), labels)}."""
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name in BATCH_NAMES:
        data = rng.integers(0, 256, size=(images_per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=images_per_batch)]
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data}
        with open(os.path.join(folder, name), "wb") as handle:
            pickle.dump(batch, handle, protocol=protocol)
        written[name] = (data, labels)
    meta = {b"label_names": [f"class{i}".encode() for i in range(10)], b"num_vis": 3072}
    with open(os.path.join(folder, "batches.meta"), "wb") as handle:
        pickle.dump(meta, handle, protocol=protocol)
    return written


def make_tar_gz(source_folder, archive_path):
    """Pack ``source_folder`` (a cifar-10-batches-py folder) as the official archive does."""
    with tarfile.open(archive_path, "w:gz") as tar:
        tar.add(source_folder, arcname=os.path.basename(source_folder))
    return archive_path


class SystemCall:
    """Unpickling this runs ``os.system(command)``: the classic malicious pickle."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class Exec:
    """Unpickling this runs ``exec(code)``: pure Python, no shell needed."""

    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def idx_bytes(array, type_code=0x08):
    """The IDX encoding of ``array`` (big-endian sizes and, for wide types, values)."""
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + np.ascontiguousarray(array, dtype=dtypes[type_code]).tobytes()


def write_mnist_folder(folder, n_train=6, n_test=4, seed=0, compress=True):
    """The four MNIST files with random images; returns {stem: array}."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for stem, array in arrays.items():
        payload = idx_bytes(array)
        if compress:
            with open(os.path.join(folder, stem + ".gz"), "wb") as handle:
                handle.write(gzip.compress(payload))
        else:
            with open(os.path.join(folder, stem), "wb") as handle:
                handle.write(payload)
    return arrays
