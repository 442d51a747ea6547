"""Deformable convolution against conv2d of the same geometry: time and peak memory.

    python benchmarks/bench_deform_conv.py [--batch 8] [--repeat 3] [--width-divisor 1]
                                           [--v1] [--threads N] [--clock cpu]

Layers: the 3x3 convolutions (padding 1, no bias) that deform_resnet50 makes deformable,
at the sizes a 224x224 image gives them, one per stage (channels divided by
--width-divisor, for a quick run):
    (N, 128, 28, 28) -> 128      (N, 256, 14, 14) -> 256      (N, 512, 7, 7) -> 512

For each layer, one forward and one backward (gradients of input and weight, and of the
offsets and the mask: DCNv2's modulated form, or offsets only with --v1), for:
    conv2d      minitorch_cv's conv2d with the Numba kernels: the baseline
    reference   deform_conv2d with kernels/reference (NumPy)
    cpu         deform_conv2d with kernels/cpu (Numba)
    gpu         deform_conv2d with kernels/cuda on CuPy, when CuPy sees a GPU
    torchvision torchvision.ops.deform_conv2d on PyTorch's CPU build, timed in a separate
                process, when its compiled operators load (with the CUDA build of
                torchvision from PyPI on CPU PyTorch they do not: the script says so)
The offsets are drawn in (-2, 2) pixels (off the integer grid), the mask in (0, 1).

Columns: "fwd ms" and "bwd ms" are the best of --repeat runs after a warm-up (the machine
may be shared: the best run is the least disturbed one; --clock cpu with --threads 1 is
steadier there); "x ref" is the deformable reference's forward+backward time over this
row's; "/conv2d" this row's time over conv2d's. "peak MiB" is the largest memory that
forward + backward held at once beyond their inputs, measured with tracemalloc in a
separate, untimed run (NumPy allocations: CPU rows only): it is the output, the four
gradients and the workspace, whose chunks stay under the workspace limit
(minitorch_cv.ops.conv.set_workspace_limit) whatever the batch.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--width-divisor", type=int, default=1, help="divide every channel count")
    parser.add_argument("--v1", action="store_true", help="no modulation mask (DCNv1)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


ARGS = parse_arguments()
if ARGS.threads is not None:  # must be set before NumPy's BLAS and Numba start
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402

MiB = 2**20
STAGES = [(128, 28), (256, 14), (512, 7)]  # (channels, size) of conv3_x, conv4_x, conv5_x
clock = time.process_time if ARGS.clock == "cpu" else time.perf_counter


def layer_arrays(C, size, seed=0):
    """input, weight, offset, mask (float32) of one 3x3 layer with padding 1."""
    rng = np.random.default_rng(seed)
    N = ARGS.batch
    x = rng.standard_normal((N, C, size, size), dtype=np.float32)
    w = (rng.standard_normal((C, C, 3, 3)) * np.sqrt(2 / (9 * C))).astype(np.float32)
    offset = rng.uniform(-2, 2, (N, 18, size, size)).astype(np.float32)
    mask = None if ARGS.v1 else rng.uniform(0, 1, (N, 9, size, size)).astype(np.float32)
    return x, w, offset, mask


def timed(step, repeat):
    """(best forward ms, best backward ms) of step(), which returns (loss, backward)."""
    step()[1]()  # warm-up: Numba loads its cache, CuPy compiles, thread pools start
    forward, backward = [], []
    for _ in range(repeat):
        start = clock()
        _, run_backward = step()
        middle = clock()
        run_backward()
        forward.append(middle - start)
        backward.append(clock() - middle)
    return min(forward) * 1e3, min(backward) * 1e3


def minitorch_step(x, w, offset, mask, device, deformable):
    """A step() for ``timed``: forward on fresh leaves, and the backward to run after it."""
    import minitorch_cv as mt
    from minitorch_cv.ops import deform_conv2d

    sync = _synchronize(device)
    arrays = [a for a in (x, w, offset, mask) if a is not None]
    leaves = [mt.tensor(a, device=device) for a in arrays]

    def step():
        for leaf in leaves:
            leaf.requires_grad = True
            leaf.grad = None
        if deformable:
            x_, w_, offset_ = leaves[:3]
            mask_ = leaves[3] if mask is not None else None
            y = deform_conv2d(x_, offset_, w_, padding=1, mask=mask_)
        else:
            y = mt.nn.functional.conv2d(leaves[0], leaves[1], padding=1)
        sync()

        def backward():
            y.sum().backward()
            sync()

        return y, backward

    return step


def peak_mib(step):
    """Peak NumPy memory (MiB) that one forward + backward adds (tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    _, backward = step()
    backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - before) / MiB


def _synchronize(device):
    if device == "gpu":
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


def torchvision_times(C, size):
    """(forward ms, backward ms) of torchvision.ops.deform_conv2d, from a separate process,
    or the reason there are none."""
    command = [sys.executable, os.path.abspath(__file__), "--torch-worker", "--batch", str(ARGS.batch),
               "--repeat", str(ARGS.repeat), "--width-divisor", "1", "--clock", ARGS.clock]
    command += ["--v1"] if ARGS.v1 else []
    command += ["--threads", str(ARGS.threads)] if ARGS.threads is not None else []
    environment = dict(os.environ, BENCH_DEFORM_LAYER=f"{C},{size}")
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
    return tuple(json.loads(result.stdout))


def torch_worker():
    """Time torchvision's op on the layer named by BENCH_DEFORM_LAYER; print JSON."""
    try:
        import torch
        from torchvision.ops import deform_conv2d
    except ImportError as error:
        sys.exit(f"not measured: {error}")
    if ARGS.threads is not None:
        torch.set_num_threads(ARGS.threads)
    C, size = (int(v) for v in os.environ["BENCH_DEFORM_LAYER"].split(","))
    x, w, offset, mask = (None if a is None else torch.tensor(a, requires_grad=True)
                          for a in layer_arrays(C, size))

    def step():
        y = deform_conv2d(x, offset, w, padding=1, mask=mask)
        return y, lambda: y.sum().backward()

    try:
        print(json.dumps(timed(step, ARGS.repeat)))
    except RuntimeError as error:  # the compiled operators did not load
        sys.exit(f"not measured: {str(error).split('. ')[0]}")


def main():
    import minitorch_cv as mt
    from minitorch_cv import backend

    header = (f"{'layer':<24} {'impl':<12} {'fwd ms':>9} {'bwd ms':>9} {'x ref':>7} "
              f"{'/conv2d':>8} {'peak MiB':>9}")
    notes = []
    rows = []
    for C_full, size in STAGES:
        C = max(1, C_full // ARGS.width_divisor)
        x, w, offset, mask = layer_arrays(C, size)
        layer = f"({ARGS.batch},{C},{size},{size})->{C}"
        results = {}
        with backend.use_cpu_kernels("cpu"):
            step = minitorch_step(x, w, offset, mask, "cpu", deformable=False)
            results["conv2d"] = timed(step, ARGS.repeat) + (peak_mib(step),)
        for implementation in ("reference", "cpu"):
            with backend.use_cpu_kernels(implementation):
                step = minitorch_step(x, w, offset, mask, "cpu", deformable=True)
                results[implementation] = timed(step, ARGS.repeat) + (peak_mib(step),)
        if mt.cuda.is_available():
            step = minitorch_step(x, w, offset, mask, "gpu", deformable=True)
            results["gpu"] = timed(step, ARGS.repeat) + (None,)
        if not notes:  # after one failure (no torch, no compiled ops) the others fail alike
            measured = torchvision_times(C, size)
            if isinstance(measured, tuple):
                results["torchvision"] = measured + (None,)
            else:
                notes.append(f"torchvision.ops.deform_conv2d {measured}")
        rows.append((layer, results))

    form = "DCNv1 (offsets)" if ARGS.v1 else "DCNv2 (offsets and mask)"
    threads = ARGS.threads if ARGS.threads is not None else "library default"
    print(f"{form}, float32, batch {ARGS.batch}, best of {ARGS.repeat}, {ARGS.clock} clock, threads: {threads}")
    print(header)
    print("-" * len(header))
    for layer, results in rows:
        reference_total = sum(results["reference"][:2])
        conv_total = sum(results["conv2d"][:2])
        for implementation, (forward_ms, backward_ms, peak) in results.items():
            total = forward_ms + backward_ms
            peak_text = f"{peak:9.1f}" if peak is not None else f"{'-':>9}"
            print(f"{layer:<24} {implementation:<12} {forward_ms:9.1f} {backward_ms:9.1f} "
                  f"{reference_total / total:7.2f} {total / conv_total:8.2f} {peak_text}")
    print("x ref: speed-up over the deformable reference; /conv2d: time over conv2d's (lower = better)")
    for note in notes:
        print(note)


if __name__ == "__main__":
    torch_worker() if ARGS.torch_worker else main()
