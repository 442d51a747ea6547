"""Time batch_norm forward and backward in training mode, as in every ResNet block.

    python benchmarks/bench_norm.py [--shape 128 64 32 32] [--repeat 5]

Training mode with running statistics, weight and bias, float32; the backward
computes the input, weight and bias gradients. Implementations: the kernels/reference
NumPy specification, the Numba kernels ("cpu"), the CUDA kernels when CuPy sees a GPU,
and PyTorch's CPU build when it is installed. Each figure is the best of --repeat runs
after a warm-up (the machine may be shared: the best run is the least disturbed one).
"vs reference" is the reference's time over this one (higher = faster); "vs PyTorch"
is this time over PyTorch's (lower = better).
"""
import argparse
import time

import numpy as np

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.nn.functional import batch_norm


def best_ms(fn, repeat):
    fn()  # warm-up: Numba loads its cache, CuPy compiles, thread pools start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def time_minitorch(x, device, repeat):
    sync = _synchronize(device)
    C = x.shape[1]
    x = mt.tensor(x, device=device, requires_grad=True)
    weight = mt.ones(C, device=device, requires_grad=True)
    bias = mt.zeros(C, device=device, requires_grad=True)
    running_mean = mt.zeros(C, device=device)
    running_var = mt.ones(C, device=device)

    def forward():
        y = batch_norm(x, running_mean, running_var, weight, bias, training=True)
        sync()
        return y

    grad = mt.tensor(np.random.default_rng(1).standard_normal(x.shape).astype(np.float32), device=device)

    def timed_backward():  # the forward of each run happens outside the timed region
        y = forward()
        x.grad = weight.grad = bias.grad = None
        start = time.perf_counter()
        y.backward(grad)
        sync()
        return time.perf_counter() - start

    forward_ms = best_ms(forward, repeat)
    timed_backward()
    backward_ms = min(timed_backward() for _ in range(repeat)) * 1e3
    return forward_ms, backward_ms


def time_torch(torch, x, repeat):
    C = x.shape[1]
    x = torch.tensor(x, requires_grad=True)
    weight = torch.ones(C, requires_grad=True)
    bias = torch.zeros(C, requires_grad=True)
    running_mean, running_var = torch.zeros(C), torch.ones(C)

    def forward():
        return torch.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training=True)

    grad = torch.tensor(np.random.default_rng(1).standard_normal(tuple(x.shape)).astype(np.float32))

    def timed_backward():
        y = forward()
        x.grad = weight.grad = bias.grad = None
        start = time.perf_counter()
        y.backward(grad)
        return time.perf_counter() - start

    forward_ms = best_ms(forward, repeat)
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
    parser.add_argument("--shape", type=int, nargs="+", default=[128, 64, 32, 32])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    x = np.random.default_rng(0).standard_normal(args.shape).astype(np.float32)

    rows = []  # (implementation, forward ms, backward ms)
    with backend.use_cpu_kernels("reference"):
        rows.append(("reference (NumPy)", *time_minitorch(x, "cpu", args.repeat)))
    rows.append(("cpu (Numba)", *time_minitorch(x, "cpu", args.repeat)))
    if mt.cuda.is_available():
        rows.append(("cuda (GPU)", *time_minitorch(x, "gpu", args.repeat)))
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        rows.append((f"PyTorch CPU ({torch.get_num_threads()} threads)", *time_torch(torch, x, args.repeat)))

    reference_total = rows[0][1] + rows[0][2]
    torch_total = rows[-1][1] + rows[-1][2] if torch is not None else None
    print(f"batch_norm, training mode, float32, input {tuple(args.shape)}, best of {args.repeat}")
    header = f"{'implementation':<26} {'forward ms':>11} {'backward ms':>12} {'total ms':>9} {'vs reference':>13}"
    if torch_total is not None:
        header += f" {'vs PyTorch':>11}"
    print(header)
    for name, forward_ms, backward_ms in rows:
        total = forward_ms + backward_ms
        line = f"{name:<26} {forward_ms:>11.1f} {backward_ms:>12.1f} {total:>9.1f} {reference_total / total:>12.1f}x"
        if torch_total is not None:
            line += f" {total / torch_total:>10.2f}x"
        print(line)


if __name__ == "__main__":
    main()
