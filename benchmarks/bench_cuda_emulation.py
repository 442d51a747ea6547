"""How fast the CPU emulation of CUDA runs the project's kernels.

    python benchmarks/bench_cuda_emulation.py [--threads N]

Prints the one-time build of each .cu file (in a fresh cache directory, so the
compiler really runs), then per kernel and shape: the NumPy reference, the Numba
kernel and the emulated CUDA kernel, in milliseconds (median of several runs, after a
warm-up call that compiles Numba and loads the library), with the ratio to the
reference. channel_sums is the 256-thread block reduction through shared memory and
__syncthreads (every CUDA thread a fiber); the others never synchronize and run as
plain loops.
"""
import argparse
import os
import statistics
import tempfile
import time

import numpy as np


def median_ms(function, repeat):
    function()  # warm-up: Numba compiles, the emulation loads its library
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, help="worker OS threads of the emulation (default: all cores)")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    if options.threads:
        os.environ["MINITORCH_CV_EMULATION_THREADS"] = str(options.threads)
    os.environ["MINITORCH_CV_CACHE"] = tempfile.mkdtemp(prefix="minitorch-cv-bench-")

    from minitorch_cv.kernels.cpu import channel as cpu_channel, scatter as cpu_scatter
    from minitorch_cv.kernels.cuda import channel as cuda_channel, emulation, scatter as cuda_scatter
    from minitorch_cv.kernels.reference import channel as ref_channel, scatter as ref_scatter

    print(f"emulation workers: {emulation.worker_count()}, compiler: {emulation.compiler()}")
    print(f"{'build (one time)':32s} {'ms':>10s}")
    for module in (cuda_channel, cuda_scatter):
        for dtype in (np.float32, np.float64):
            start = time.perf_counter()
            module._SOURCE.build("emulation", dtype)
            print(f"{module._SOURCE.path.name + ' ' + np.dtype(dtype).name:32s} {1000 * (time.perf_counter() - start):10.1f}")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 32, 32)).astype(np.float32)
    scale, shift = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    index = rng.integers(0, 1000, 2**18)
    values = rng.standard_normal(2**18).astype(np.float32)
    cases = [
        ("channel_sums", "(8, 16, 32, 32) float32", lambda m: m.channel_sums(x)),
        ("channel_scale_shift", "(8, 16, 32, 32) float32", lambda m: m.channel_scale_shift(x, scale, shift)),
        ("scatter_add", "2^18 values -> 1000", lambda m: m.scatter_add(index, values, 1000)),
    ]
    families = {
        "channel_sums": (ref_channel, cpu_channel, cuda_channel),
        "channel_scale_shift": (ref_channel, cpu_channel, cuda_channel),
        "scatter_add": (ref_scatter, cpu_scatter, cuda_scatter),
    }
    print()
    print(f"{'kernel':22s} {'shape':26s} {'implementation':16s} {'ms':>10s} {'/ reference':>12s}")
    for name, shape, call in cases:
        reference_ms = None
        for label, module in zip(("reference (NumPy)", "cpu (Numba)", "cuda (emulated)"), families[name]):
            ms = median_ms(lambda: call(module), options.repeat)
            reference_ms = reference_ms or ms
            print(f"{name:22s} {shape:26s} {label:16s} {ms:10.2f} {ms / reference_ms:12.2f}")


if __name__ == "__main__":
    main()
