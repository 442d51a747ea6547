"""Scaled dot-product attention: forward + backward time and forward peak memory.

    python benchmarks/bench_attention.py [--repeats 5] [--dtype float32] [--batch 32]

Time: ViT-S/16 attention, (B, NH, L, S, E) = (32, 6, 197, 197, 64), forward then backward
(dq, dk, dv), for the NumPy reference kernels, the Numba CPU kernels, the CUDA kernels
when CuPy sees a GPU, and PyTorch's CPU F.scaled_dot_product_attention when torch is
importable, timed in a separate process (its OpenMP threads never share a process with
Numba's). A second table adds a learned (1, NH, L, S) bias that needs its gradient, the
relative-position bias of CoAtNet, through the same kernels. Each row is the best of
--repeats runs after one warm-up run; the ratio is the reference's time over the row's
(above 1: faster than the reference).

Threads: NumPy's BLAS, Numba and PyTorch each use every core by default; on a shared
or small machine, compare them per core with
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/bench_attention.py

Memory: the peak of NumPy allocations (tracemalloc) during one forward call for growing
L = S, B = 1, NH = 6, E = 64: the reference stores the (L x S) scores and weights of
every head, the Numba kernel its outputs and one chunk of scores under its workspace
limit (kernels/cpu/attention.py, _WORKSPACE_BYTES), whatever L and S.
"""
import argparse
import json
import subprocess
import sys
import time
import tracemalloc

import numpy as np

SHAPE = dict(B=32, NH=6, L=197, S=197, E=64)
MEMORY_LENGTHS = (256, 512, 1024, 2048)


def make_inputs(B, NH, L, S, E, dtype, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((B, NH, L, E)).astype(dtype)
    k = rng.standard_normal((B, NH, S, E)).astype(dtype)
    v = rng.standard_normal((B, NH, S, E)).astype(dtype)
    dout = rng.standard_normal((B, NH, L, E)).astype(dtype)
    bias = (0.1 * rng.standard_normal((1, NH, L, S))).astype(dtype)
    return q, k, v, dout, bias


def kernel_step(module, q, k, v, dout, bias, scale, synchronize=lambda: None):
    """One forward + backward through a kernel module (arrays in, arrays out)."""

    def step():
        out, lse = module.attention_forward(q, k, v, bias, scale, False)
        module.attention_backward(q, k, v, bias, out, lse, dout, scale, False)
        synchronize()

    return step


def best_time(step, repeats):
    step()  # warm-up: compilation, caches, thread pools
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


# ------------------------------------------------------------------------- PyTorch
def torch_worker(arguments):
    """Run in the child process: time PyTorch's attention on the same inputs and print
    {"version": ..., "ms": {"plain": ..., "bias": ...}} as JSON."""
    import torch
    import torch.nn.functional as F

    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    shape = dict(SHAPE, B=arguments.batch)
    q, k, v, dout, bias = make_inputs(**shape, dtype=np.dtype(arguments.dtype))
    tq, tk, tv, tbias = (torch.from_numpy(a).requires_grad_() for a in (q, k, v, bias))
    tdout = torch.from_numpy(dout)
    scale = 1.0 / np.sqrt(SHAPE["E"])
    results = {}
    for label, mask in (("plain", None), ("bias", tbias)):

        def step(mask=mask):
            for t in (tq, tk, tv, tbias):
                t.grad = None
            out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=mask, scale=scale)
            out.backward(tdout)

        results[label] = 1000 * best_time(step, arguments.repeats)
    print(json.dumps({"version": torch.__version__, "ms": results}))


def torch_times(arguments):
    """PyTorch's times from a child process, or None when torch is not importable."""
    command = [sys.executable, __file__, "--torch-worker", "--repeats", str(arguments.repeats),
               "--dtype", arguments.dtype, "--batch", str(arguments.batch)]
    if arguments.threads:
        command += ["--threads", str(arguments.threads)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        if "No module named 'torch'" not in result.stderr:
            print(f"(PyTorch run failed: {result.stderr.strip().splitlines()[-1]})")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------- tables
def time_tables(arguments):
    from minitorch_cv import cuda
    from minitorch_cv.kernels.cpu import attention as cpu_attention
    from minitorch_cv.kernels.reference import attention as reference_attention

    shape = dict(SHAPE, B=arguments.batch)
    q, k, v, dout, bias = make_inputs(**shape, dtype=np.dtype(arguments.dtype))
    scale = 1.0 / np.sqrt(SHAPE["E"])
    torch_result = torch_times(arguments)
    for label, title in (("plain", "no mask"), ("bias", "learned (1, NH, L, S) bias, with dbias")):
        mask = bias if label == "bias" else None
        rows = [
            ("reference (NumPy)", kernel_step(reference_attention, q, k, v, dout, mask, scale)),
            ("cpu kernel (Numba)", kernel_step(cpu_attention, q, k, v, dout, mask, scale)),
        ]
        if cuda.is_available():
            import cupy

            from minitorch_cv.kernels.cuda import attention as cuda_attention

            gpu = [None if a is None else cupy.asarray(a) for a in (q, k, v, dout, mask)]
            sync = cupy.cuda.get_current_device().synchronize
            rows.append(("cuda kernel (GPU)", kernel_step(cuda_attention, *gpu, scale, sync)))
        times = [(name, 1000 * best_time(step, arguments.repeats)) for name, step in rows]
        if torch_result is not None:
            times.append((f"PyTorch {torch_result['version']} CPU", torch_result["ms"][label]))

        geometry = "B={B} NH={NH} L={L} S={S} E={E}".format(**shape)
        print(f"\nforward + backward, {geometry}, {title}, {arguments.dtype}, best of {arguments.repeats}")
        print(f"{'implementation':<28}{'ms':>10}{'vs reference':>15}")
        reference_ms = times[0][1]
        for name, ms in times:
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
    from minitorch_cv.kernels.cpu import attention as cpu_attention
    from minitorch_cv.kernels.reference import attention as reference_attention

    print(f"\nforward peak traced memory (MiB), B=1 NH=6 E=64, {np.dtype(dtype).name}")
    print(f"{'L = S':>7}{'outputs':>10}{'reference':>12}{'cpu kernel':>12}")
    small = make_inputs(1, 1, 2, 2, 64, dtype)
    cpu_attention.attention_forward(*small[:3], None, 0.125, False)  # compile outside the trace
    for length in MEMORY_LENGTHS:
        q, k, v, _, _ = make_inputs(1, 6, length, length, 64, dtype)
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
    parser.add_argument("--batch", type=int, default=SHAPE["B"], help="B (32: ViT-S training batch)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for minitorch_cv (Numba and BLAS) and PyTorch (default: each its own)")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.torch_worker:
        torch_worker(arguments)
        return
    if arguments.threads:
        import minitorch_cv

        minitorch_cv.set_num_threads(arguments.threads)
    time_tables(arguments)
    memory_table(np.dtype(arguments.dtype))


if __name__ == "__main__":
    main()
