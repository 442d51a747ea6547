"""Forward + backward time of the three layers every CNN of the course leans on.

    python benchmarks/bench_layers.py [--repeat 5]

Layers (float32, the shapes of issue 5):
    max_pool2d 3x3 / stride 2 on (128, 64, 32, 32)
    batch_norm (training mode, weight and bias) on (128, 64, 32, 32)
    cross_entropy (log-softmax + NLL, mean) on (128, 1000) logits

Each row times one forward and one backward through the autograd ops for:
  reference   kernels/reference (NumPy), via backend.use_cpu_kernels("reference")
  cpu         kernels/cpu (Numba)
  gpu         kernels/cuda on CuPy, when a GPU is present
  torch-cpu   PyTorch's CPU build, when ``import torch`` works
The figure is the best of --repeat runs after a warm-up (the machine may be shared: the
best run is the least disturbed one). "x ref" is the reference's time over this one
(higher = faster); "/torch" is this time over PyTorch's (lower = better). Nothing is
asserted: the per-layer benchmarks (bench_pool, bench_norm, bench_softmax) split
forward from backward and cover more shapes.
"""
import argparse
import time

import numpy as np

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.nn import functional as F

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None


def layers():
    """(name, input shape, loss(f, x, lib) with f the functional module, lib the tensor library)."""

    def max_pool(f, x, lib):
        return f.max_pool2d(x, 3, 2).sum()

    def batch_norm(f, x, lib):
        C = x.shape[1]
        weight = lib.ones(C, requires_grad=True)
        bias = lib.zeros(C, requires_grad=True)
        return f.batch_norm(x, lib.zeros(C), lib.ones(C), weight, bias, training=True).sum()

    def cross_entropy(f, x, lib):
        target = lib.arange(x.shape[0])  # 128 samples, classes 0..127 of 1000
        return f.cross_entropy(x, target)

    return [
        ("max_pool2d 3x3/2", (128, 64, 32, 32), max_pool),
        ("batch_norm train", (128, 64, 32, 32), batch_norm),
        ("softmax cross-entropy", (128, 1000), cross_entropy),
    ]


def best_ms(step, repeat):
    step()  # warm-up: Numba loads its cache, CuPy compiles, thread pools start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def time_minitorch(loss_of, values, device, repeat):
    x = mt.tensor(values, device=device, requires_grad=True)
    sync = _synchronize(device)

    def step():
        x.grad = None
        loss_of(F, x, _DeviceLib(device)).backward()
        sync()

    return best_ms(step, repeat)


def time_torch(loss_of, values, repeat):
    x = torch.tensor(values, requires_grad=True)

    def step():
        x.grad = None
        loss_of(torch.nn.functional, x, torch).backward()

    return best_ms(step, repeat)


class _DeviceLib:
    """The constructors that a layer needs, placed on one device (torch's default is CPU)."""

    def __init__(self, device):
        self.device = device

    def ones(self, *shape, **kwargs):
        return mt.ones(*shape, device=self.device, **kwargs)

    def zeros(self, *shape, **kwargs):
        return mt.zeros(*shape, device=self.device, **kwargs)

    def arange(self, n):
        return mt.arange(n, device=self.device)


def _synchronize(device):
    if device == "gpu":
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    header = f"{'layer':<42} {'impl':<10} {'fwd+bwd ms':>11} {'x ref':>7} {'/torch':>7}"
    print(header)
    print("-" * len(header))
    for name, shape, loss_of in layers():
        values = rng.standard_normal(shape).astype(np.float32)
        results = {}
        for implementation in ("reference", "cpu"):
            with backend.use_cpu_kernels(implementation):
                results[implementation] = time_minitorch(loss_of, values, "cpu", args.repeat)
        if mt.cuda.is_available():
            results["gpu"] = time_minitorch(loss_of, values, "gpu", args.repeat)
        if torch is not None:
            results["torch-cpu"] = time_torch(loss_of, values, args.repeat)
        for implementation, ms in results.items():
            versus_torch = f"{ms / results['torch-cpu']:7.2f}" if torch is not None else f"{'-':>7}"
            print(
                f"{name + ' ' + str(shape):<42} {implementation:<10} {ms:11.1f} "
                f"{results['reference'] / ms:7.2f} {versus_torch}"
            )


if __name__ == "__main__":
    main()
