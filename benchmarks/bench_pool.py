"""Time pooling and resampling forward and backward.

    python benchmarks/bench_pool.py [--batch 128] [--repeat 5]

Layers (float32):
    max_pool2d 3x3 / stride 2 on (N, 64, 32, 32)            AlexNet-style overlapping pooling
    avg_pool2d 3x3 / stride 2 / padding 1 on (N, 64, 32, 32)
    adaptive_avg_pool2d to 1x1 on (N, 512, 4, 4)             ResNet's global average pooling
    interpolate bilinear x2 on (N/8, 21, 32, 32)             FCN-style upsampling of scores

For each, the time of the forward and of the backward for the kernels/reference
implementation, the Numba kernels ("cpu"), the CUDA kernels when CuPy sees a GPU, and
PyTorch's CPU build when it is installed. Each figure is the best of --repeat runs
after a warm-up (the machine may be shared: the best run is the one least disturbed).
Ratios are to the reference (higher = faster) and to PyTorch (time / PyTorch's time,
lower = better).
"""
import argparse
import time

import numpy as np

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.nn import functional as F
from _tables import print_forward_backward_table  # benchmarks/ is on sys.path when run


def layers(batch):
    """(name, input shape, minitorch_cv call, the same call for torch.nn.functional)."""
    return [
        ("max_pool2d 3x3/2", (batch, 64, 32, 32), lambda f, x: f.max_pool2d(x, 3, 2)),
        ("avg_pool2d 3x3/2 p1", (batch, 64, 32, 32), lambda f, x: f.avg_pool2d(x, 3, 2, 1)),
        ("adaptive_avg 1x1", (batch, 512, 4, 4), lambda f, x: f.adaptive_avg_pool2d(x, 1)),
        (
            "bilinear x2",
            (max(batch // 8, 1), 21, 32, 32),
            lambda f, x: f.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False),
        ),
    ]


def best_time(fn, repeat):
    fn()  # warm-up: Numba compiles (or loads its cache)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def time_minitorch(call, values, device, repeat):
    sync = _synchronize(device)
    x = mt.tensor(values, device=device, requires_grad=True)

    def forward():
        y = call(F, x)
        sync()
        return y

    grad = mt.ones(forward().shape, device=device)

    def timed_backward():  # the forward of each run happens outside the timed region
        y = forward()
        x.grad = None
        start = time.perf_counter()
        y.backward(grad)
        sync()
        return time.perf_counter() - start

    forward_ms = best_time(forward, repeat)
    timed_backward()
    backward_ms = min(timed_backward() for _ in range(repeat)) * 1e3
    return forward_ms, backward_ms


def time_torch(torch, call, values, repeat):
    x = torch.tensor(values, requires_grad=True)

    def forward():
        return call(torch.nn.functional, x)

    grad = torch.ones_like(forward())

    def timed_backward():
        y = forward()
        start = time.perf_counter()
        torch.autograd.grad(y, x, grad)
        return time.perf_counter() - start

    with torch.no_grad():
        forward_ms = best_time(forward, repeat)
    timed_backward()
    backward_ms = min(timed_backward() for _ in range(repeat)) * 1e3
    return forward_ms, backward_ms


def _synchronize(device):
    if device == "gpu":
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None

    rng = np.random.default_rng(0)
    rows = []
    for name, shape, call in layers(args.batch):
        values = rng.standard_normal(shape).astype(np.float32)
        results = {}
        for implementation in ("reference", "cpu"):
            with backend.use_cpu_kernels(implementation):
                results[implementation] = time_minitorch(call, values, "cpu", args.repeat)
        if mt.cuda.is_available():
            results["gpu"] = time_minitorch(call, values, "gpu", args.repeat)
        if torch is not None:
            results["torch-cpu"] = time_torch(torch, call, values, args.repeat)
        rows.append((f"{name} {shape}", results))

    print_forward_backward_table(rows, layer_width=40)


if __name__ == "__main__":
    main()
