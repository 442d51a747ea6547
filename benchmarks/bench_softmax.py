"""Softmax cross-entropy and softmax: forward + backward time per implementation.

    python benchmarks/bench_softmax.py [--repeat 30]

Times ``cross_entropy(x, target).backward()`` on (128, 10) and (128, 1000) logits and
``softmax(scores, -1)`` forward + backward on attention-shaped scores
(B, NH, L, S) = (8, 6, 197, 197), through the ops (autograd included), for:
  reference   kernels/reference (NumPy), via backend.use_cpu_kernels("reference")
  cpu         kernels/cpu (Numba, parallel over rows)
  gpu         kernels/cuda on CuPy, when a GPU is present
  torch-cpu   PyTorch's CPU build, when ``import torch`` works
Prints the best and the median milliseconds and the speedup over the reference (from
the best times: on a shared machine the median also measures how long the other
processes keep our threads waiting). Nothing is asserted.
"""
import argparse
import statistics
import time

import numpy as np

import minitorch_cv as mt
import minitorch_cv.nn.functional as F
from minitorch_cv import backend

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None


def time_ms(run, repeat, sync=lambda: None):
    """(best, median) wall-clock milliseconds of ``repeat`` calls after one warm-up."""
    run()  # warm-up: Numba/CUDA compilation, caches
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times), statistics.median(times)


def cross_entropy_case(shape, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(shape).astype(np.float32)
    target = rng.integers(0, shape[1], shape[0])
    return logits, target


def attention_case(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def minitorch_cross_entropy(logits, target, device):
    x = mt.tensor(logits, device=device, requires_grad=True)
    t = mt.tensor(target, device=device)

    def run():
        x.grad = None
        F.cross_entropy(x, t).backward()

    return run


def minitorch_softmax(scores, device):
    x = mt.tensor(scores, device=device, requires_grad=True)
    upstream = mt.tensor(np.ones_like(scores), device=device)

    def run():
        x.grad = None
        (F.softmax(x, -1) * upstream).sum().backward()

    return run


def torch_cross_entropy(logits, target):
    x = torch.tensor(logits, requires_grad=True)
    t = torch.tensor(target)

    def run():
        x.grad = None
        torch.nn.functional.cross_entropy(x, t).backward()

    return run


def torch_softmax(scores):
    x = torch.tensor(scores, requires_grad=True)
    upstream = torch.ones_like(x)

    def run():
        x.grad = None
        (torch.softmax(x, -1) * upstream).sum().backward()

    return run


def rows_for(name, shape, make_minitorch, make_torch, repeat):
    """One table row per implementation for one workload."""
    results = []
    for implementation in ("reference", "cpu"):
        with backend.use_cpu_kernels(implementation):
            results.append((implementation, time_ms(make_minitorch("cpu"), repeat)))
    if mt.cuda.is_available():
        import cupy

        sync = cupy.cuda.get_current_stream().synchronize
        results.append(("gpu", time_ms(make_minitorch("gpu"), repeat, sync)))
    if torch is not None:
        results.append(("torch-cpu", time_ms(make_torch(), repeat)))
    reference_best = results[0][1][0]
    return [(name, str(shape), impl, best, median, reference_best / best) for impl, (best, median) in results]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    table = []
    for shape in ((128, 10), (128, 1000)):
        logits, target = cross_entropy_case(shape)
        table += rows_for(
            "cross_entropy fwd+bwd", shape,
            lambda device: minitorch_cross_entropy(logits, target, device),
            lambda: torch_cross_entropy(logits, target),
            args.repeat,
        )
    scores = attention_case((8, 6, 197, 197))
    table += rows_for(
        "softmax(dim=-1) fwd+bwd", scores.shape,
        lambda device: minitorch_softmax(scores, device),
        lambda: torch_softmax(scores),
        max(3, args.repeat // 5),
    )

    if torch is None:
        torch_note = "torch not installed"
    else:
        torch_note = f"torch {torch.__version__} with {torch.get_num_threads()} threads"
    print(f"float32; {args.repeat} runs after a warm-up (attention: fewer); {torch_note}")
    header = (f"{'workload':<26}{'shape':<20}{'implementation':<16}{'best ms':>10}{'median ms':>11}"
              f"{'speedup vs reference':>22}")
    print(header)
    print("-" * len(header))
    for name, shape, impl, best, median, speedup in table:
        print(f"{name:<26}{shape:<20}{impl:<16}{best:>10.3f}{median:>11.3f}{speedup:>21.1f}x")


if __name__ == "__main__":
    main()
