"""The PyTorch side of bench_resnet_step.py, run in its own process (see that file).

    python benchmarks/_torch_step.py --arch resnet20 --batch-size 128 [--threads 2]

Builds PyTorch's twin of one of our models and answers one command per line on stdin
with one JSON line on stdout:

    steps N    {"times": [...]}   N timed training steps (seconds each), after one untimed step
    profile    {"ops": {...}}     milliseconds per row of the per-op table, and "step": the
                                  whole step; each row's median over 3 profiled steps
    rss        {"before": kB, "peak": kB}   resident memory before a step and at its peak
    quit

Why a process of its own: PyTorch's OpenMP workers keep spinning for a while after each
of its parallel regions, and in the same process they take the cores that our Numba and
BLAS pools need (minitorch_cv/threads.py). The twins: resnet20 is He et al.'s CIFAR
ResNet-20 with option-A shortcuts (written out below, as in our models/resnet_cifar.py);
cifar_resnet18 is torchvision's resnet18 with our CIFAR stem (a 3x3 stride-1 conv1, no
max-pool); any other name is torchvision.models.<name>(num_classes=10).
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as TF

from _step_memory import step_peak_rss

# Rows of the per-op table and the ATen ops (top-level calls only: an op called inside
# another counted op is not counted again) that make them, per phase of the step.
FORWARD_ROWS = {
    "conv fwd": ("aten::convolution",),
    "BN fwd": ("aten::batch_norm",),
    "ReLU": ("aten::relu", "aten::relu_", "aten::hardtanh", "aten::hardtanh_"),
    "add": ("aten::add", "aten::add_"),
}
BACKWARD_ROWS = {
    "conv bwd": ("aten::convolution_backward",),
    "BN bwd": ("aten::native_batch_norm_backward",),
    "ReLU": ("aten::threshold_backward", "aten::hardtanh_backward"),
}


class OptionABlock(torch.nn.Module):
    """out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), option-A shortcut."""

    def __init__(self, in_channels, channels, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(channels)
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(channels)
        self.extra = channels - in_channels
        self.stride = stride

    def forward(self, x):
        shortcut = x[:, :, :: self.stride, :: self.stride]
        if self.extra:
            shortcut = TF.pad(shortcut, (0, 0, 0, 0, 0, self.extra))
        out = TF.relu(self.bn1(self.conv1(x)))
        return TF.relu(self.bn2(self.conv2(out)) + shortcut)


def resnet20():
    layers = [torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(16), torch.nn.ReLU()]
    in_channels = 16
    for channels in (16, 32, 64):
        for block in range(3):
            layers.append(OptionABlock(in_channels, channels, 2 if block == 0 and channels != 16 else 1))
            in_channels = channels
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 10)]
    return torch.nn.Sequential(*layers)


def build(arch):
    import torchvision

    if arch == "resnet20":
        return resnet20()
    if arch == "cifar_resnet18":
        model = torchvision.models.resnet18(num_classes=10)
        model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
        return model
    return getattr(torchvision.models, arch)(num_classes=10)


class Trainer:
    def __init__(self, arch, batch_size):
        torch.manual_seed(0)
        self.model = build(arch)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9,
                                         nesterov=True, weight_decay=5e-4)
        self.images = torch.randn(batch_size, 3, 32, 32)
        self.labels = torch.randint(0, 10, (batch_size,))

    def forward(self):
        return TF.cross_entropy(self.model(self.images), self.labels)

    def backward(self, loss):
        self.optimizer.zero_grad()
        loss.backward()

    def step(self):
        loss = self.forward()
        self.backward(loss)
        self.optimizer.step()

    def timed_steps(self, count):
        self.step()  # untimed: the pools wake up and the caches refill after the other side ran
        times = []
        for _ in range(count):
            started = time.perf_counter()
            self.step()
            times.append(time.perf_counter() - started)
        return times

    def profile(self, steps=3):
        """Milliseconds per row of the per-op table, each phase profiled: each row's
        median over ``steps`` steps (the profiler's first use starts it up: that step is
        not counted)."""
        self._profile_step()
        profiled = [self._profile_step() for _ in range(steps)]
        return {row: statistics.median(step.get(row, 0.0) for step in profiled)
                for row in set().union(*profiled)}

    def _profile_step(self):
        from torch.profiler import ProfilerActivity, profile

        rows = {}
        step_started = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU]) as forward:
            loss = self.forward()
        with profile(activities=[ProfilerActivity.CPU]) as backward:
            self.backward(loss)
        started = time.perf_counter()
        self.optimizer.step()
        rows["optimizer"] = (time.perf_counter() - started) * 1000
        rows["step"] = (time.perf_counter() - step_started) * 1000
        for prof, table in ((forward, FORWARD_ROWS), (backward, BACKWARD_ROWS)):
            for row, milliseconds in top_level_totals(prof.events(), table).items():
                rows[row] = rows.get(row, 0.0) + milliseconds
        return rows


def top_level_totals(events, table):
    """{row: milliseconds} summing the events named in ``table`` that have no counted
    ancestor (aten::relu calls aten::clamp_min; only the outer call counts)."""
    counted = {name: row for row, names in table.items() for name in names}
    totals = dict.fromkeys(table, 0.0)
    for event in events:
        row = counted.get(event.name)
        if row is None:
            continue
        parent = event.cpu_parent
        while parent is not None and parent.name not in counted:
            parent = parent.cpu_parent
        if parent is None:
            totals[row] += event.cpu_time_total / 1000
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet20")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    trainer = Trainer(args.arch, args.batch_size)
    trainer.step()  # warm-up: oneDNN picks its kernels on the first call
    print(json.dumps({"ready": torch.__version__}), flush=True)
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "steps":
            reply = {"times": trainer.timed_steps(int(rest[0]))}
        elif command == "profile":
            reply = {"ops": trainer.profile()}
        elif command == "rss":
            reply = step_peak_rss(trainer.step)
        else:
            break
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
