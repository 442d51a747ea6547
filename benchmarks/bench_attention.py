"""Scaled dot-product attention: forward + backward time and forward peak memory.

    python benchmarks/bench_attention.py [--repeats 5] [--dtype float32]

Time: ViT-S attention, (B, NH, L, S, E) = (32, 6, 197, 197, 64), forward then backward
(dq, dk, dv), for the NumPy reference kernels, the Numba CPU kernels, the CUDA kernels
when CuPy sees a GPU, and PyTorch's CPU F.scaled_dot_product_attention when torch is
importable. Each row is the best of --repeats runs after one warm-up run; the ratio is
the reference's time over the row's time (above 1: faster than the reference).

Threads: NumPy's BLAS, Numba and PyTorch each use every core by default; on a shared
or small machine, compare them per core with
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/bench_attention.py

Memory: the peak of NumPy allocations (tracemalloc) during one forward call for growing
L = S, B = 1, NH = 6, E = 64: the reference stores the (L x S) scores and weights of
every head, the Numba kernel only its outputs (Numba's own per-row scratch, TILE scores,
is not traced and does not depend on S).
"""
import argparse
import time
import tracemalloc

import numpy as np

from minitorch_cv import cuda
from minitorch_cv.kernels.cpu import attention as cpu_attention
from minitorch_cv.kernels.reference import attention as reference_attention

SHAPE = dict(B=32, NH=6, L=197, S=197, E=64)
MEMORY_LENGTHS = (256, 512, 1024, 2048)


def make_inputs(B, NH, L, S, E, dtype, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((B, NH, L, E)).astype(dtype)
    k = rng.standard_normal((B, NH, S, E)).astype(dtype)
    v = rng.standard_normal((B, NH, S, E)).astype(dtype)
    dout = rng.standard_normal((B, NH, L, E)).astype(dtype)
    return q, k, v, dout


def kernel_step(module, q, k, v, dout, scale, synchronize=lambda: None):
    """One forward + backward through a kernel module (arrays in, arrays out)."""

    def step():
        out, lse = module.attention_forward(q, k, v, None, scale, False)
        module.attention_backward(q, k, v, None, out, lse, dout, scale, False)
        synchronize()

    return step


def torch_step(q, k, v, dout, scale):
    import torch
    import torch.nn.functional as F

    tq, tk, tv = (torch.from_numpy(a).requires_grad_() for a in (q, k, v))
    tdout = torch.from_numpy(dout)

    def step():
        for t in (tq, tk, tv):
            t.grad = None
        out = F.scaled_dot_product_attention(tq, tk, tv, scale=scale)
        out.backward(tdout)

    return step


def best_time(step, repeats):
    step()  # warm-up: compilation, caches, thread pools
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def time_table(dtype, repeats):
    q, k, v, dout = make_inputs(**SHAPE, dtype=dtype)
    scale = 1.0 / np.sqrt(SHAPE["E"])
    rows = [
        ("reference (NumPy)", kernel_step(reference_attention, q, k, v, dout, scale)),
        ("cpu kernel (Numba)", kernel_step(cpu_attention, q, k, v, dout, scale)),
    ]
    if cuda.is_available():
        import cupy

        from minitorch_cv.kernels.cuda import attention as cuda_attention

        gq, gk, gv, gdout = (cupy.asarray(a) for a in (q, k, v, dout))
        sync = cupy.cuda.get_current_device().synchronize
        rows.append(("cuda kernel (GPU)", kernel_step(cuda_attention, gq, gk, gv, gdout, scale, sync)))
    try:
        import torch

        rows.append((f"PyTorch {torch.__version__} CPU", torch_step(q, k, v, dout, scale)))
    except ImportError:
        pass

    shape = "B={B} NH={NH} L={L} S={S} E={E}".format(**SHAPE)
    print(f"\nforward + backward, {shape}, {np.dtype(dtype).name}, best of {repeats}")
    print(f"{'implementation':<28}{'ms':>10}{'vs reference':>15}")
    reference_ms = None
    for name, step in rows:
        ms = 1000 * best_time(step, repeats)
        reference_ms = reference_ms or ms
        print(f"{name:<28}{ms:>10.1f}{reference_ms / ms:>14.2f}x")


def peak_bytes(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory_table(dtype):
    print(f"\nforward peak traced memory (MiB), B=1 NH=6 E=64, {np.dtype(dtype).name}")
    print(f"{'L = S':>7}{'outputs':>10}{'reference':>12}{'cpu kernel':>12}")
    small = make_inputs(1, 1, 2, 2, 64, dtype)
    cpu_attention.attention_forward(*small[:3], None, 0.125, False)  # compile outside the trace
    for length in MEMORY_LENGTHS:
        q, k, v, _ = make_inputs(1, 6, length, length, 64, dtype)
        outputs = q.size * q.itemsize + q.shape[0] * q.shape[1] * length * q.itemsize
        peaks = [
            peak_bytes(lambda m=module: m.attention_forward(q, k, v, None, 0.125, False))
            for module in (reference_attention, cpu_attention)
        ]
        mib = [b / 2**20 for b in [outputs] + peaks]
        print(f"{length:>7}{mib[0]:>10.2f}{mib[1]:>12.2f}{mib[2]:>12.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()
    time_table(np.dtype(args.dtype), args.repeats)
    memory_table(np.dtype(args.dtype))


if __name__ == "__main__":
    main()
