"""Peak memory of a conv layer's forward + backward as the batch grows.

    python benchmarks/bench_conv_memory.py [--batches 32 128 512]

Layer: (N, 64, 32, 32) -> 64 channels, 3x3, padding 1, float32, input and weight
gradients, run as ``Conv2d.forward`` then ``Conv2d.backward`` (the autograd engine
around them would add its own copy of a leaf's gradient). tracemalloc sees every NumPy
allocation (the Numba kernels allocate nothing themselves), so its peak, from just
before the forward to just after the backward, is the memory the convolution added.
Part of it is unavoidable and grows with the batch: the output y and the input gradient
(N*64*32*32 floats each). The rest is workspace: with batch chunking it stays the same
whatever the batch; with chunking switched off (one chunk for the whole batch, the plain
im2col approach) the column matrix alone is 9 times the input, and grows with the batch.
On the CPU the chunks run side by side, one per thread (ops/chunk_pool.py), so the chunked
workspace is up to ``get_num_threads()`` chunks' worth; the unchunked run uses one thread.
"""
import argparse
import tracemalloc

import numpy as np

import minitorch_cv as mt
from minitorch_cv.autograd.function import Context
from minitorch_cv.ops import conv as conv_ops

MiB = 2**20


def peak_memory(N):
    """(peak bytes added by forward + backward, bytes of y + grad_x)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, 64, 32, 32), dtype=np.float32)
    w = rng.standard_normal((64, 64, 3, 3), dtype=np.float32) * np.float32(0.06)
    grad_y = np.ones((N, 64, 32, 32), dtype=np.float32)
    geometry = conv_ops.Geometry(KH=3, KW=3, SH=1, SW=1, PH=1, PW=1, DH=1, DW=1, G=1)
    ctx = Context(needs_input_grad=(True, True, False, False))
    tracemalloc.start()
    tracemalloc.reset_peak()
    y = conv_ops.Conv2d.forward(ctx, x, w, None, geometry)
    grad_x, grad_w, _, _ = conv_ops.Conv2d.backward(ctx, grad_y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, y.nbytes + grad_x.nbytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512])
    args = parser.parse_args()
    peak_memory(1)  # compile (or load) the kernels first

    print(
        f"workspace limit {conv_ops.get_workspace_limit() / MiB:.0f} MiB, "
        f"CPU chunks under {conv_ops.CPU_CHUNK_BYTES / MiB:.0f} MiB each, "
        f"{mt.get_num_threads()} at once (one per thread)"
    )
    header = (
        f"{'batch':>6} {'y+grad_x MiB':>13} {'peak MiB':>9} {'workspace MiB':>14} "
        f"{'unchunked peak MiB':>19} {'unchunked workspace':>20}"
    )
    print(header)
    print("-" * len(header))
    for N in args.batches:
        peak, results = peak_memory(N)
        limit, chunk, threads = conv_ops.get_workspace_limit(), conv_ops.CPU_CHUNK_BYTES, mt.get_num_threads()
        conv_ops.set_workspace_limit(2**62)
        conv_ops.CPU_CHUNK_BYTES = 2**62  # one chunk: the whole batch's columns at once
        mt.set_num_threads(1)  # (with more threads the batch would be split between them)
        try:
            unchunked_peak, _ = peak_memory(N)
        finally:
            conv_ops.set_workspace_limit(limit)
            conv_ops.CPU_CHUNK_BYTES = chunk
            mt.set_num_threads(threads)
        print(
            f"{N:>6} {results / MiB:>13.1f} {peak / MiB:>9.1f} {(peak - results) / MiB:>14.1f} "
            f"{unchunked_peak / MiB:>19.1f} {(unchunked_peak - results) / MiB:>20.1f}"
        )
    print("workspace = peak - (y + grad_x): the memory beyond what forward + backward must return")


if __name__ == "__main__":
    main()
