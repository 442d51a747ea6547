"""Data pipeline speed: loading the files, one epoch of batches, the transforms alone.

    python benchmarks/bench_data.py [--data-dir ../shared/data] [--repeats 5]

Prints a table of milliseconds (median and best of the repeats). "consumer" rows simulate
a GPU training step that takes as long as the data work (the host sleeps meanwhile), to
show what the background prefetch hides. With PyTorch installed, the same batching
(shuffle, batch 128, no augmentation) through torch's DataLoader over a TensorDataset
is shown for comparison.
"""
import argparse
import os
import pathlib
import statistics
import time


from minitorch_cv import data
from minitorch_cv.data import transforms as T


def _times_ms(fn, repeats):
    """(median, best) of ``repeats`` runs; on a shared machine the best is the closer
    estimate of the unloaded cost."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def _epoch(loader, consume=None):
    def run():
        for images, labels in loader:
            if consume is not None:
                consume(images)

    return run


def _fake_step(milliseconds):
    """A stand-in for a GPU training step: the host waits ``milliseconds`` (sleeping,
    so the CPU is free for the prefetch thread, as it is while a GPU computes)."""

    def step(_images):
        time.sleep(milliseconds / 1000)

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
        rows.append((name, *_times_ms(fn, args.repeats)))
        return rows[-1][2]

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

    width = max(len(row[0]) for row in rows)
    print(f"{'what'.ljust(width)}  median ms    best ms   ({args.repeats} runs)")
    for name, median, best in rows:
        print(f"{name.ljust(width)}  {median:9.1f}  {best:9.1f}")


if __name__ == "__main__":
    main()
