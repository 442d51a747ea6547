"""Data pipeline speed: loading the files, one epoch of batches, the transforms alone.

    python benchmarks/bench_data.py [--data-dir ../shared/data] [--repeats 5]

Prints a table of milliseconds (median of the repeats). "consumer" rows simulate a
training step that takes as long as the data work (a NumPy computation that releases
the GIL), to show what the background prefetch hides. With PyTorch installed, the same
batching (shuffle, batch 128, no augmentation) through torch's DataLoader over a
TensorDataset is shown for comparison.
"""
import argparse
import os
import pathlib
import statistics
import time

import numpy as np

from minitorch_cv import data
from minitorch_cv.data import transforms as T


def _median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _epoch(loader, consume=None):
    def run():
        for images, labels in loader:
            if consume is not None:
                consume(images)

    return run


def _fake_step(milliseconds):
    """A stand-in for a training step: BLAS work of about ``milliseconds``."""
    a = np.random.default_rng(0).random((256, 256), dtype=np.float32)
    start = time.perf_counter()
    a @ a
    per_matmul = max(time.perf_counter() - start, 1e-5)
    count = max(1, int(milliseconds / 1000 / per_matmul))

    def step(_images):
        for _ in range(count):
            a @ a

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = os.environ.get(
        "MINITORCH_CV_DATA", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--data-dir", default=str(default_dir))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = pathlib.Path(args.data_dir)
    rows = []

    archive = root / "cifar-10-subset-python.tar.gz"

    def measure(name, fn):
        rows.append((name, _median_ms(fn, args.repeats)))
        return rows[-1][1]

    measure("load CIFAR-10 subset train (tar.gz)", lambda: data.CIFAR10(archive))
    measure("load MNIST train (IDX gzip)", lambda: data.MNIST(root))
    cifar = data.CIFAR10(archive)
    mnist = data.MNIST(root)

    augment = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                         T.Normalize(data.CIFAR10_MEAN, data.CIFAR10_STD)])  # fmt: skip
    measure(f"crop+flip+normalize, one batch of all {len(cifar)} images",
            lambda: augment(cifar.data, generator=0))  # fmt: skip

    def cifar_loader(prefetch):
        return data.DataLoader(cifar, 128, shuffle=True, generator=0, transform=augment,
                               prefetch=prefetch)  # fmt: skip

    for prefetch in (False, True):
        epoch_ms = measure(
            f"CIFAR epoch ({len(cifar)}), batch 128, crop+flip+normalize, prefetch={prefetch}",
            _epoch(cifar_loader(prefetch)),
        )
        if not prefetch:
            per_batch = epoch_ms / len(cifar_loader(False))
    step = _fake_step(per_batch)
    for prefetch in (False, True):
        measure(f"  + consumer of {per_batch:.1f} ms/batch, prefetch={prefetch}",
                _epoch(cifar_loader(prefetch), step))  # fmt: skip
    steps = len(cifar_loader(False))
    measure(f"  consumer alone ({steps} steps)", lambda: [step(None) for _ in range(steps)])

    normalize = T.Normalize(data.MNIST_MEAN, data.MNIST_STD)
    for prefetch in (False, True):
        loader = data.DataLoader(mnist, 128, shuffle=True, generator=0, transform=normalize,
                                 prefetch=prefetch)  # fmt: skip
        measure(f"MNIST epoch ({len(mnist)}), batch 128, normalize, prefetch={prefetch}",
                _epoch(loader))  # fmt: skip
    loader = data.DataLoader(mnist, 128, shuffle=True, generator=0, prefetch=False)
    measure("MNIST epoch, batch 128, uint8 (no transform)", _epoch(loader))

    try:
        import torch
        from torch.utils.data import DataLoader as TorchLoader
        from torch.utils.data import TensorDataset as TorchTensors
    except ImportError:
        torch = None
    if torch is not None:
        torch_set = TorchTensors(torch.from_numpy(mnist.data), torch.from_numpy(mnist.targets))
        torch_loader = TorchLoader(torch_set, batch_size=128, shuffle=True)
        measure("PyTorch: MNIST epoch, batch 128, uint8 (TensorDataset)", _epoch(torch_loader))

    width = max(len(name) for name, _ in rows)
    print(f"{'what'.ljust(width)}  ms (median of {args.repeats})")
    for name, ms in rows:
        print(f"{name.ljust(width)}  {ms:9.1f}")


if __name__ == "__main__":
    main()
