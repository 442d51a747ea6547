"""Time conv2d forward and backward on the convolution layers of a CIFAR ResNet.

    python benchmarks/bench_conv.py [--batch 128] [--repeat 5] [--threads N] [--clock cpu]

Layers (3x3 kernels, padding 1, no bias, as in a ResNet):
    (N, 16, 32, 32) -> 16 channels, stride 1
    (N, 32, 16, 16) -> 64 channels, stride 2
    (N, 64,  8,  8) -> 64 channels, stride 1

For each, the time of the forward and of the backward (input and weight gradients),
for the kernels/reference implementation, the Numba kernels ("cpu"), the same with the
forward's Winograd path turned off ("cpu-im2col": every forward by im2col; otherwise, at
the default batch of 128, the first and last layers take Winograd's F(2x2, 3x3), as
every 3x3 stride-1 layer with enough channels and output tiles does: ops/conv.py's
_winograd_pays), the CUDA kernels
when CuPy sees a GPU, and PyTorch's CPU build when it is installed. Each figure is the
best of --repeat runs after a warm-up (the machine may be shared: the best run is the
one least disturbed). Ratios are to the reference (higher = faster) and to PyTorch
(time / PyTorch's time, lower = better).

--threads N sets the threads of Numba, of the BLAS behind NumPy and of PyTorch (default:
each library's own choice, one per core). --clock cpu measures the process's CPU time
instead of the wall clock: on a machine shared with other jobs it is the steadier
figure, but only with --threads 1 (with more threads it adds up every thread's time,
including the time they spend waiting for each other).
"""
import argparse
import contextlib
import os
import sys
import time

LAYERS = [  # (C, H=W, K, stride)
    (16, 32, 16, 1),
    (32, 16, 64, 2),
    (64, 8, 64, 1),
]


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    return parser.parse_args()


ARGS = parse_arguments()
if ARGS.threads is not None:  # must be set before NumPy's BLAS and Numba start
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402

import minitorch_cv as mt  # noqa: E402
from minitorch_cv import backend  # noqa: E402
from minitorch_cv.nn.functional import conv2d  # noqa: E402
from minitorch_cv.ops import conv as conv_ops  # noqa: E402
from _tables import print_forward_backward_table  # noqa: E402  (benchmarks/ is on sys.path)

clock = time.process_time if ARGS.clock == "cpu" else time.perf_counter

def best_time(fn, repeat):
    fn()  # warm-up: Numba compiles (or loads its cache), BLAS starts its threads
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times) * 1e3


def time_minitorch(x, w, stride, device, repeat):
    sync = _synchronize(device)
    x = mt.tensor(x, device=device, requires_grad=True)
    w = mt.tensor(w, device=device, requires_grad=True)

    def forward():
        y = conv2d(x, w, stride=stride, padding=1)
        sync()
        return y

    grad = mt.ones(forward().shape, device=device)
    outputs = []

    def backward():  # the forward of each run happens outside the timed region
        x.grad = w.grad = None
        outputs[-1].backward(grad)
        sync()

    def timed_backward():
        outputs.append(forward())
        start = clock()
        backward()
        return clock() - start

    forward_ms = best_time(forward, repeat)
    timed_backward()
    backward_ms = min(timed_backward() for _ in range(repeat)) * 1e3
    return forward_ms, backward_ms


def time_torch(torch, x, w, stride, repeat):
    x = torch.tensor(x, requires_grad=True)
    w = torch.tensor(w, requires_grad=True)

    def forward():
        return torch.nn.functional.conv2d(x, w, stride=stride, padding=1)

    grad = torch.ones_like(forward())

    def timed_backward():
        y = forward()
        start = clock()
        torch.autograd.grad(y, (x, w), grad)
        return clock() - start

    with torch.no_grad():
        forward_ms = best_time(forward, repeat)
    timed_backward()
    backward_ms = min(timed_backward() for _ in range(repeat)) * 1e3
    return forward_ms, backward_ms


@contextlib.contextmanager
def im2col_only():
    """conv_forward without its Winograd path: no layer has enough channels for it."""
    previous = conv_ops.WINOGRAD_MIN_CHANNELS
    conv_ops.WINOGRAD_MIN_CHANNELS = float("inf")
    try:
        yield
    finally:
        conv_ops.WINOGRAD_MIN_CHANNELS = previous


def _synchronize(device):
    if device == "gpu":
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


def main():
    args = ARGS
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and args.threads is not None:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    rows = []
    for C, H, K, stride in LAYERS:
        x = rng.standard_normal((args.batch, C, H, H)).astype(np.float32)
        w = (rng.standard_normal((K, C, 3, 3)) * np.sqrt(2 / (9 * C))).astype(np.float32)
        layer = f"({args.batch},{C},{H},{H})->{K} s{stride}"
        results = {}
        for implementation in ("reference", "cpu"):
            with backend.use_cpu_kernels(implementation):
                results[implementation] = time_minitorch(x, w, stride, "cpu", args.repeat)
        with im2col_only():
            results["cpu-im2col"] = time_minitorch(x, w, stride, "cpu", args.repeat)
        if mt.cuda.is_available():
            results["gpu"] = time_minitorch(x, w, stride, "gpu", args.repeat)
        if torch is not None:
            results["torch-cpu"] = time_torch(torch, x, w, stride, args.repeat)
        rows.append((layer, results))

    threads = args.threads if args.threads is not None else "library default"
    print(f"batch {args.batch}, best of {args.repeat}, {args.clock} clock, threads: {threads}")
    print_forward_backward_table(rows, layer_width=26)


if __name__ == "__main__":
    main()
