"""Time k-nearest-neighbour queries: milliseconds per 1,000 queries, against a NumPy brute force.

    python benchmarks/bench_knn.py [--data-dir ../shared/data] [--queries 1000] [--repeat 3]

Data: the training images of the CIFAR-10 subset (T = 4,660 vectors of D = 3,072 pixels)
and of MNIST (T = 60,000 of D = 784), queried with test images (the first --queries;
CIFAR's 846 are cycled when more are asked for); --synthetic uses random pixels of the
same shapes instead (no data needed). For each data set and metric, the time of
``KNeighborsClassifier(n_neighbors=10, p).kneighbors(queries)``:

    numpy       a NumPy brute force as a NumPy user writes it: L2 by the expansion
                |a|^2 + |b|^2 - 2ab (one matmul), L1 one query at a time
                (np.abs(train - query).sum(1)), then a stable argsort of each row
    reference   the classifier on the kernels/reference distances (NumPy)
    cpu         the classifier on the Numba kernels
    gpu         the classifier on the CUDA kernels (when CuPy sees a GPU)
    torch-cpu   torch.cdist + torch.topk, timed in a separate process (when PyTorch is
                installed)

Precision as in examples/knn_cifar.py: L1 in float32, L2 in float64 (both exact on
pixels). Each figure is the best of --repeat runs (after a warm-up run for the Numba and
CUDA kernels, which compile on first use), scaled to 1,000 queries; "x numpy" is the
speed-up over the NumPy brute force. The NumPy L1 brute force on MNIST is slow (a
60,000 x 784 difference array per query): --no-numpy skips it.
"""
import argparse
import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import minitorch_cv as mt
from minitorch_cv import backend, data
from minitorch_cv.neighbors import KNeighborsClassifier

K = 10
DTYPES = {1: np.float32, 2: np.float64}
SHAPES = {"cifar": (4660, 3072), "mnist": (60000, 784)}


def load(name, data_dir, queries, synthetic, train_limit):
    """(train (T, D) uint8, queries (Q, D) uint8) of data set ``name``."""
    T, D = SHAPES[name]
    if synthetic:
        rng = np.random.default_rng(0)
        train = rng.integers(0, 256, (T, D), dtype=np.uint8)
        test = rng.integers(0, 256, (queries, D), dtype=np.uint8)
    else:
        if name == "cifar":
            source = os.path.join(data_dir, "cifar-10-subset-python.tar.gz")
            train_set, test_set = data.CIFAR10(source, train=True), data.CIFAR10(source, train=False)
        else:
            source = os.path.join(data_dir, "mnist")
            train_set, test_set = data.MNIST(source, train=True), data.MNIST(source, train=False)
        train = train_set.arrays[0].reshape(len(train_set), -1)
        test = test_set.arrays[0].reshape(len(test_set), -1)
        test = test[np.arange(queries) % len(test)]
    return train[:train_limit], test


def numpy_brute_force(train, queries, k, p):
    """(distances, indices) of the k nearest, the plain NumPy way."""
    if p == 2:
        d = (queries**2).sum(1)[:, None] + (train**2).sum(1)[None, :] - 2 * queries @ train.T
        d = np.sqrt(np.maximum(d, 0))
    else:
        d = np.stack([np.abs(train - query).sum(1) for query in queries])
    indices = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, indices, axis=1), indices


def best_seconds(fn, repeat, warm_up=True):
    if warm_up:
        fn()  # Numba compiles or loads its cache, CuPy builds its kernels
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_classifier(train, queries, p, device, repeat, warm_up):
    knn = KNeighborsClassifier(n_neighbors=K, p=p, device=device).fit(train, np.zeros(len(train), dtype=np.int64))
    return best_seconds(lambda: knn.kneighbors(queries), repeat, warm_up)


TORCH_WORKER = """
import json, sys, time
import numpy as np
import torch
train = torch.from_numpy(np.load(sys.argv[1])); queries = torch.from_numpy(np.load(sys.argv[2]))
p, k, repeat = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def run():
    return torch.topk(torch.cdist(queries, train, p=p), k, dim=1, largest=False)
run()
times = []
for _ in range(repeat):
    start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
print(json.dumps(min(times)))
"""


def time_torch(train, queries, p, repeat, folder):
    """Seconds of torch.cdist + topk in a fresh process (its threads and allocator apart
    from ours), or None without PyTorch."""
    if importlib.util.find_spec("torch") is None:
        return None
    paths = [os.path.join(folder, name) for name in ("train.npy", "queries.npy")]
    np.save(paths[0], train)
    np.save(paths[1], queries)
    result = subprocess.run([sys.executable, "-c", TORCH_WORKER, *paths, str(p), str(K), str(repeat)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MINITORCH_CV_DATA", "../shared/data"))
    parser.add_argument("--datasets", nargs="+", default=["cifar", "mnist"], choices=sorted(SHAPES))
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--train-limit", type=int, default=None, help="use only the first N training vectors")
    parser.add_argument("--synthetic", action="store_true", help="random pixels of the same shapes")
    parser.add_argument("--no-numpy", action="store_true", help="skip the (slow) NumPy brute force")
    args = parser.parse_args()

    header = f"{'data set':<22} {'metric':<7} {'impl':<10} {'ms / 1000 queries':>18} {'x numpy':>8}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        for name in args.datasets:
            train, queries = load(name, args.data_dir, args.queries, args.synthetic, args.train_limit)
            label = f"{name} T={len(train)} D={train.shape[1]}"
            for p in (1, 2):
                train_p, queries_p = train.astype(DTYPES[p]), queries.astype(DTYPES[p])
                seconds = {}
                if not args.no_numpy:
                    brute_force = functools.partial(numpy_brute_force, train_p, queries_p, K, p)
                    seconds["numpy"] = best_seconds(brute_force, args.repeat, warm_up=False)
                for implementation in ("reference", "cpu"):  # the reference compiles nothing
                    with backend.use_cpu_kernels(implementation):
                        seconds[implementation] = time_classifier(train_p, queries_p, p, "cpu", args.repeat,
                                                                  warm_up=implementation == "cpu")
                if mt.cuda.is_available():
                    seconds["gpu"] = time_classifier(train_p, queries_p, p, "gpu", args.repeat, warm_up=True)
                torch_seconds = time_torch(train_p, queries_p, p, args.repeat, folder)
                if torch_seconds is not None:
                    seconds["torch-cpu"] = torch_seconds
                for implementation, s in seconds.items():
                    per_thousand = 1000 * s * 1000 / len(queries)
                    ratio = f"{seconds['numpy'] / s:8.2f}" if "numpy" in seconds else f"{'-':>8}"
                    print(f"{label:<22} {'L' + str(p):<7} {implementation:<10} {per_thousand:18.1f} {ratio}",
                          flush=True)


if __name__ == "__main__":
    main()
