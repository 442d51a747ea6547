"""Where the time of a ResNet training step goes: forward, backward and optimizer, and
each differentiable op's share.

    python benchmarks/bench_resnet_step.py [--arch resnet20] [--batch-size 128] [--steps 3]

Prints the wall time of the three phases of a training step (median over ``--steps``
steps after one warm-up step that compiles the Numba kernels), then a table of the ops'
forward and backward functions ranked by their total time during one profiled step
(cProfile; the profiler adds a little to every Python call, so the table shows shares,
the first lines show the speed). With PyTorch installed the same step of the same
architecture (ResNet-20, option A) is timed in PyTorch for comparison.

Threads: ``--threads N`` calls ``minitorch_cv.set_num_threads(N)`` (Numba's and
OpenBLAS's pools; PyTorch's too when it runs). On a machine shared with other jobs, give
the cores you really have: oversubscribed thread pools make a step several times slower.
"""
import argparse
import cProfile
import os
import pstats
import statistics
import time
from collections import defaultdict

import minitorch_cv as mt
from minitorch_cv import models, nn, optim

OPS_DIR = os.path.dirname(mt.ops.__file__)


def step_phases(model, optimizer, loss_fn, images, labels):
    """Seconds of (forward + loss, backward, optimizer step)."""
    started = time.perf_counter()
    loss = loss_fn(model(images), labels)
    forward = time.perf_counter()
    optimizer.zero_grad()
    loss.backward()
    backward = time.perf_counter()
    optimizer.step()
    done = time.perf_counter()
    return forward - started, backward - forward, done - backward


def _class_of(filename, lineno):
    """The class that a forward/backward at ``filename:lineno`` belongs to."""
    with open(filename) as handle:
        lines = handle.readlines()[:lineno]
    for line in reversed(lines):
        if line.startswith("class "):
            return line.split()[1].split("(")[0].rstrip(":")
    return "?"


def op_table(stats, top):
    """[(name, seconds)] of the ops' forward/backward functions, largest first."""
    totals = defaultdict(float)
    for (filename, lineno, function), entry in stats.stats.items():
        if function in ("forward", "backward") and filename.startswith(OPS_DIR):
            name = f"{_class_of(filename, lineno)}.{function}"
            totals[name] += entry[3]  # cumulative time
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def torch_step_seconds(batch_size, steps, threads):
    """Median seconds of a ResNet-20 (option A) training step in PyTorch, or None."""
    try:
        import torch
        import torch.nn.functional as TF
    except ImportError:
        return None
    if threads is not None:
        torch.set_num_threads(threads)

    class Block(torch.nn.Module):
        def __init__(self, cin, c, stride):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(cin, c, 3, stride, 1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(c)
            self.conv2 = torch.nn.Conv2d(c, c, 3, 1, 1, bias=False)
            self.bn2 = torch.nn.BatchNorm2d(c)
            self.extra = c - cin
            self.stride = stride

        def forward(self, x):
            shortcut = x[:, :, :: self.stride, :: self.stride]
            if self.extra:
                shortcut = TF.pad(shortcut, (0, 0, 0, 0, 0, self.extra))
            out = TF.relu(self.bn1(self.conv1(x)))
            return TF.relu(self.bn2(self.conv2(out)) + shortcut)

    layers = [torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(16),
              torch.nn.ReLU()]
    cin = 16
    for c in (16, 32, 64):
        for block in range(3):
            layers.append(Block(cin, c, 2 if block == 0 and c != 16 else 1))
            cin = c
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 10)]
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    images, labels = torch.randn(batch_size, 3, 32, 32), torch.randint(0, 10, (batch_size,))
    times = []
    for _ in range(steps + 1):
        started = time.perf_counter()
        loss = TF.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet20", choices=models.list_models())
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of every pool (default: each pool's own default)")
    args = parser.parse_args()
    if args.threads is not None:
        mt.set_num_threads(args.threads)

    mt.manual_seed(0)
    model = models.get_model(args.arch)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    images = mt.randn(args.batch_size, 3, 32, 32)
    labels = mt.randint(0, 10, (args.batch_size,))

    step_phases(model, optimizer, loss_fn, images, labels)  # warm-up: compiles kernels
    phases = [step_phases(model, optimizer, loss_fn, images, labels) for _ in range(args.steps)]
    forward, backward, update = (statistics.median(p[i] for p in phases) for i in range(3))
    total = forward + backward + update
    print(f"{args.arch}, batch {args.batch_size}, threads: Numba {mt.get_num_threads()}, "
          f"OpenBLAS {mt.threads.blas_num_threads() or '?'}")
    print(f"{'phase':<24}{'ms':>10}{'share':>8}")
    for name, seconds in (("forward + loss", forward), ("backward", backward),
                          ("optimizer step", update), ("step", total)):
        print(f"{name:<24}{seconds * 1000:>10.1f}{seconds / total * 100:>7.0f}%")
    print(f"{'images per second':<24}{args.batch_size / total:>10.1f}")

    profiler = cProfile.Profile()
    profiler.enable()
    step_phases(model, optimizer, loss_fn, images, labels)
    profiler.disable()
    stats = pstats.Stats(profiler)
    profiled = stats.total_tt
    print(f"\n{'op (one profiled step)':<36}{'ms':>10}{'share':>8}")
    for name, seconds in op_table(stats, args.top):
        print(f"{name:<36}{seconds * 1000:>10.1f}{seconds / profiled * 100:>7.0f}%")

    reference = torch_step_seconds(args.batch_size, args.steps, args.threads) if args.arch == "resnet20" else None
    if reference is not None:
        print(f"\nPyTorch (CPU) resnet20 step: {reference * 1000:.1f} ms "
              f"({args.batch_size / reference:.0f} images/s); ours / PyTorch = "
              f"{total / reference:.1f}x")


if __name__ == "__main__":
    main()
