"""Optimizer steps and checkpoint save/load on a ResNet-18-sized set of parameters.

    python benchmarks/bench_optim.py

Prints milliseconds per optimizer step (float32, CPU) for minitorch_cv and, when
``import torch`` works, for PyTorch's CPU build on the same shapes; then the time to
save and load a checkpoint of those parameters plus the optimizer state.
"""
import os
import tempfile
import time

import numpy as np

import minitorch_cv as mt

# The convolution and classifier weights of torchvision's resnet18 (11.5 M values).
SHAPES = (
    [(64, 3, 7, 7)] + [(64, 64, 3, 3)] * 4
    + [(128, 64, 3, 3)] + [(128, 128, 3, 3)] * 3
    + [(256, 128, 3, 3)] + [(256, 256, 3, 3)] * 3
    + [(512, 256, 3, 3)] + [(512, 512, 3, 3)] * 3
    + [(1000, 512), (1000,)]
)


def _time(fn, repeat=5):
    fn()  # warm up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _mt_params(rng):
    params = [mt.nn.Parameter(mt.tensor(rng.standard_normal(s).astype(np.float32))) for s in SHAPES]
    for p in params:
        p.grad = mt.tensor(rng.standard_normal(p.shape).astype(np.float32))
    return params


def main():
    rng = np.random.default_rng(0)
    params = _mt_params(rng)
    count = sum(p.numel() for p in params)
    print(f"{len(params)} tensors, {count / 1e6:.1f} M parameters, float32, CPU")
    makers = {
        "SGD momentum=0.9": lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=5e-4),
        "Adam": lambda lib, ps: lib.optim.Adam(ps, lr=1e-3),
        "AdamW amsgrad": lambda lib, ps: lib.optim.AdamW(ps, lr=1e-3, amsgrad=True),
    }
    try:
        import torch

        torch_params = [torch.nn.Parameter(torch.from_numpy(p.detach().numpy().copy())) for p in params]
        for tp, p in zip(torch_params, params):
            tp.grad = torch.from_numpy(p.grad.numpy().copy())
    except ImportError:
        torch = None
    print(f"{'optimizer':20s} {'minitorch_cv ms':>16s} {'torch ms':>10s}")
    for name, make in makers.items():
        ours = _time(make(mt, params).step)
        theirs = _time(make(torch, torch_params).step) if torch else float("nan")
        print(f"{name:20s} {ours:16.1f} {theirs:10.1f}")

    optimizer = makers["Adam"](mt, params)
    optimizer.step()
    checkpoint = {"params": params, "optimizer": optimizer.state_dict(), "epoch": 1}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ck.mtc")
        save_ms = _time(lambda: mt.save(checkpoint, path), repeat=3)
        size = os.path.getsize(path) / 2**20
        load_ms = _time(lambda: mt.load(path), repeat=3)
    print(f"checkpoint of {size:.0f} MiB: save {save_ms:.0f} ms (fsync included), load {load_ms:.0f} ms")


if __name__ == "__main__":
    main()
