"""How fast the CPU emulation of CUDA runs the project's kernels.

    python benchmarks/bench_cuda_emulation.py [--threads N]

Prints the one-time build of each .cu file (in a fresh cache directory, so the
compiler really runs), then per kernel and shape: the NumPy reference, the Numba
kernel and the emulated CUDA kernel, in milliseconds (median of several runs, after a
warm-up call that compiles Numba and loads the library), with the ratio to the
reference. batch_norm_statistics is the 256-thread block reduction through shared memory
and __syncthreads (every CUDA thread a fiber); the others never synchronize and run as
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

    from minitorch_cv import backend
    from minitorch_cv.kernels.cuda.runtime import emulation

    print(f"emulation workers: {emulation.worker_count()}, compiler: {emulation.compiler()}")
    print(f"{'build (one time)':32s} {'ms':>10s}")
    for module in (backend.BATCH_NORM.cuda, backend.SCATTER.cuda):
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
        ("batch_norm_statistics", "(8, 16, 32, 32) float32", lambda m: m.batch_norm_statistics(x)),
        ("batch_norm_scale_shift", "(8, 16, 32, 32) float32", lambda m: m.batch_norm_scale_shift(x, scale, shift)),
        ("scatter_add", "2^18 values -> 1000", lambda m: m.scatter_add(index, values, 1000)),
    ]
    families = {
        "batch_norm_statistics": backend.BATCH_NORM,
        "batch_norm_scale_shift": backend.BATCH_NORM,
        "scatter_add": backend.SCATTER,
    }
    print()
    print(f"{'kernel':24s} {'shape':26s} {'implementation':16s} {'ms':>10s} {'/ reference':>12s}")
    for name, shape, call in cases:
        reference_ms = None
        for label, module in zip(("reference (NumPy)", "cpu (Numba)", "cuda (emulated)"), families[name]):
            ms = median_ms(lambda: call(module), options.repeat)
            reference_ms = reference_ms or ms
            print(f"{name:24s} {shape:26s} {label:16s} {ms:10.2f} {ms / reference_ms:12.2f}")


if __name__ == "__main__":
    main()
