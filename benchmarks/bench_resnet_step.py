"""A training step of a CIFAR-size network, ours against PyTorch's, and where the time goes.

    python benchmarks/bench_resnet_step.py --threads 2                  # ResNet-20, batch 128
    python benchmarks/bench_resnet_step.py --threads 2 --arch cifar_resnet18
    python benchmarks/bench_resnet_step.py --threads 2 --arch mobilenet_v2
    python benchmarks/bench_resnet_step.py --threads 2 --torch-python VENV/bin/python

One step: forward, cross-entropy, backward, SGD (momentum 0.9, Nesterov, weight decay
5e-4) on random 32x32 images. PyTorch runs the same step of its twin of the model
(benchmarks/_torch_step.py says which) in a worker process of its own, started with
``--torch-python`` (default: this Python; without PyTorch there, only our side runs).

1. Rounds (``--rounds``): each times ``--steps`` steps of ours, then as many of PyTorch's
   (each side first runs one untimed step, since the other side has just had the cores),
   and prints the ratio of the two medians. Alternating, rather than timing one side and
   then the other, spreads any change in the machine's load over both sides.
2. Peak resident memory of one step, for both (benchmarks/_step_memory.py).
3. The per-op table, each row the median of 3 instrumented steps: conv fwd, conv bwd,
   BN fwd, BN bwd, ReLU (forward and backward, ReLU6 included), add (the residual sums),
   optimizer, and the rest of the step. Ours: wall time inside each op's Function.forward/backward;
   PyTorch: torch.profiler's CPU totals of the matching ATen ops (_torch_step.py lists
   them); "step" is the whole profiled step, "other" what it spent outside the rows.
   The profilers add a little to every op: the table shows where the time goes, the
   rounds show the speed.
4. Last line: the median of the rounds' ratios, ours / PyTorch.

A "before" column: run this script with a Python whose minitorch_cv is an older checkout
and ``--save before.json --no-torch``, then here with ``--before before.json`` (same
--arch and --batch-size): the table gets its per-op figures and a line compares the
median steps. (Before
the CIFAR ResNet-18 was renamed, it was registered as ``resnet18``: ``--arch
cifar_resnet18`` uses that name when the framework has no ``cifar_resnet18``.)

Threads: ``--threads N`` sets both sides (``minitorch_cv.set_num_threads``,
``torch.set_num_threads``). On a machine shared with other jobs the timings mean little:
give each side the cores you really have, and measure when the machine is quiet.
"""
import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

import minitorch_cv as mt
from minitorch_cv import models, nn, optim
from minitorch_cv.autograd import Function

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _step_memory import step_peak_rss  # noqa: E402

PROFILED_STEPS = 3  # per-op table: each row's median over this many steps, on both sides
ROWS = ("conv fwd", "conv bwd", "BN fwd", "BN bwd", "ReLU", "add", "optimizer")
# Our rows: (Function class name, "forward" or "backward") -> row of the table.
OUR_OPS = {
    ("Conv2d", "forward"): "conv fwd",
    ("Conv2d", "backward"): "conv bwd",
    ("BatchNorm", "forward"): "BN fwd",
    ("BatchNorm", "backward"): "BN bwd",
    ("ReLU", "forward"): "ReLU",
    ("ReLU", "backward"): "ReLU",
    ("Hardtanh", "forward"): "ReLU",  # ReLU6 (MobileNetV2)
    ("Hardtanh", "backward"): "ReLU",
    ("Add", "forward"): "add",
    ("Add", "backward"): "add",
}


def model_name(arch):
    """``arch``, or the name the CIFAR ResNet-18 had before it was renamed."""
    names = models.list_models()
    if arch not in names and arch == "cifar_resnet18" and "resnet18" in names:
        return "resnet18"
    if arch not in names:
        raise SystemExit(f"--arch {arch}: this minitorch_cv ({os.path.dirname(mt.__file__)}) "
                         "has no such model")
    return arch


class Trainer:
    """Our side: the same interface as _torch_step.Trainer."""

    def __init__(self, arch, batch_size):
        mt.manual_seed(0)
        self.model = models.get_model(model_name(arch))
        self.optimizer = optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9,
                                   nesterov=True, weight_decay=5e-4)
        self.loss = nn.CrossEntropyLoss()
        self.images = mt.randn(batch_size, 3, 32, 32)
        self.labels = mt.randint(0, 10, (batch_size,))

    def step(self):
        loss = self.loss(self.model(self.images), self.labels)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def timed_steps(self, count):
        self.step()  # untimed, as on PyTorch's side
        times = []
        for _ in range(count):
            started = time.perf_counter()
            self.step()
            times.append(time.perf_counter() - started)
        return times

    def profile(self):
        """Milliseconds per row of the per-op table, and the whole "step": each row's
        median over PROFILED_STEPS instrumented steps, after an untimed one (one step
        alone swings by 20-50% on some rows when the machine's speed drifts)."""
        self.step()
        return median_rows([self._profile_step() for _ in range(PROFILED_STEPS)])

    def _profile_step(self):
        rows = dict.fromkeys(ROWS, 0.0)
        step_started = time.perf_counter()
        with timed_functions(rows):
            loss = self.loss(self.model(self.images), self.labels)
            self.optimizer.zero_grad()
            loss.backward()
        started = time.perf_counter()
        self.optimizer.step()
        rows["optimizer"] = (time.perf_counter() - started) * 1000
        rows["step"] = (time.perf_counter() - step_started) * 1000
        return rows


def median_rows(steps):
    """{row: median over the steps' {row: milliseconds}}."""
    return {row: statistics.median(step[row] for step in steps) for row in steps[0]}


@contextlib.contextmanager
def timed_functions(rows):
    """Time every Function subclass named in OUR_OPS (found wherever minitorch_cv.ops
    defines it) into ``rows`` while the block runs."""
    classes = {cls.__name__: cls for cls in _subclasses(Function)
               if cls.__module__.startswith("minitorch_cv.ops")}
    originals = []
    for (name, method), row in OUR_OPS.items():
        if name in classes:
            cls = classes[name]
            originals.append((cls, method, cls.__dict__[method]))
            setattr(cls, method, staticmethod(_timed(getattr(cls, method), row, rows)))
    try:
        yield
    finally:
        for cls, method, original in originals:
            setattr(cls, method, original)


def _timed(function, row, rows):
    def timed(*args):
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            rows[row] += (time.perf_counter() - started) * 1000
    return timed


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


class TorchWorker:
    """benchmarks/_torch_step.py in a process of its own, one JSON line per command."""

    def __init__(self, python, arch, batch_size, threads):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_torch_step.py")
        command = [python, script, "--arch", arch, "--batch-size", str(batch_size)]
        if threads is not None:
            command += ["--threads", str(threads)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.version = self._reply().get("ready")

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._reply()

    def _reply(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(self.process.stderr.read()[-2000:])
        return json.loads(line)

    def close(self):
        with contextlib.suppress(OSError):
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        self.process.wait(timeout=60)


def start_torch(args):
    if args.no_torch:
        return None
    try:
        return TorchWorker(args.torch_python, args.arch, args.batch_size, args.threads)
    except (OSError, RuntimeError) as error:
        print(f"PyTorch side not run ({str(error).strip().splitlines()[-1:] or error})")
        return None


def print_op_table(ours, torch_rows, before):
    columns = [("before", before), ("ours", ours), ("PyTorch", torch_rows)]
    columns = [(name, rows) for name, rows in columns if rows is not None]
    header = f"{'op (ms, one step)':<20}" + "".join(f"{name:>10}" for name, _ in columns)
    if torch_rows is not None:
        header += f"{'ours/PT':>9}"
    print(header)
    for row in ROWS + ("other", "step"):
        line = f"{row:<20}" + "".join(f"{rows.get(row, float('nan')):>10.1f}" for _, rows in columns)
        if torch_rows is not None and torch_rows.get(row):
            line += f"{ours[row] / torch_rows[row]:>8.2f}x"
        print(line)


def with_other(rows):
    """The rows plus "other": what the profiled step spent outside the named rows."""
    return dict(rows, other=rows["step"] - sum(rows[row] for row in ROWS if row in rows))


def kilobytes_to_mib(kilobytes):
    return f"{kilobytes / 1024:.0f}" if kilobytes else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet20", help="a registered model name (32x32 inputs)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round and side")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of every pool, both sides (default: each pool's own)")
    parser.add_argument("--torch-python", default=sys.executable,
                        help="the Python that runs PyTorch's side (default: this one)")
    parser.add_argument("--no-torch", action="store_true", help="time our side only")
    parser.add_argument("--save", help="write our figures to this JSON file")
    parser.add_argument("--before", help="a JSON file written by --save: its figures become a column")
    args = parser.parse_args()
    if args.threads is not None:
        mt.set_num_threads(args.threads)

    trainer = Trainer(args.arch, args.batch_size)
    trainer.step()  # compiles the Numba kernels
    torch_worker = start_torch(args)
    print(f"{args.arch}, batch {args.batch_size}, 32x32, threads: {args.threads or 'default'}"
          + (f"; PyTorch {torch_worker.version} in its own process" if torch_worker else ""))
    core, forced = mt.threads.blas_core_name(), os.environ.get("OPENBLAS_CORETYPE")
    if core is not None:  # the GEMMs' speed, most of a step, depends on it
        print(f"NumPy's OpenBLAS runs its {core} kernels"
              + (f" (OPENBLAS_CORETYPE={forced} in the environment)" if forced else ""))

    ours_all, ratios = [], []
    for round_index in range(args.rounds):
        ours = trainer.timed_steps(args.steps)
        ours_all += ours
        line = f"round {round_index + 1}: ours {statistics.median(ours) * 1000:8.1f} ms"
        if torch_worker is not None:
            theirs = torch_worker.ask(f"steps {args.steps}")["times"]
            ratios.append(statistics.median(ours) / statistics.median(theirs))
            line += f"   PyTorch {statistics.median(theirs) * 1000:8.1f} ms   ratio {ratios[-1]:.2f}"
        print(line)
    step_ms = statistics.median(ours_all) * 1000
    print(f"images per second (ours): {args.batch_size / step_ms * 1000:.1f}")

    memory = step_peak_rss(trainer.step)
    line = (f"resident memory, MiB: ours {kilobytes_to_mib(memory['before'])} before a step, "
            f"peak {kilobytes_to_mib(memory['peak'])}")
    if torch_worker is not None:
        theirs = torch_worker.ask("rss")
        line += (f"; PyTorch {kilobytes_to_mib(theirs['before'])} before, "
                 f"peak {kilobytes_to_mib(theirs['peak'])}")
    print(line)

    ours_rows = with_other(trainer.profile())
    torch_rows = None
    if torch_worker is not None:
        torch_rows = with_other(torch_worker.ask("profile")["ops"])
        torch_worker.close()
    before = None
    if args.before:
        with open(args.before) as handle:
            saved = json.load(handle)
        if (saved["arch"], saved["batch_size"]) != (args.arch, args.batch_size):
            raise SystemExit(f"--before {args.before}: measured {saved['arch']} at batch "
                             f"{saved['batch_size']}, not {args.arch} at batch {args.batch_size}")
        before = saved["ops"]
        print(f"before ({args.before}): median step {saved['step_ms']:.1f} ms, "
              f"now {step_ms:.1f} ms: {saved['step_ms'] / step_ms:.2f}x faster")
    print()
    print_op_table(ours_rows, torch_rows, before)
    if args.save:
        record = {"arch": args.arch, "batch_size": args.batch_size, "threads": args.threads,
                  "step_ms": step_ms, "ops": ours_rows, "memory_kb": memory}
        temporary = args.save + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(record, handle, indent=1)
        os.replace(temporary, args.save)
    if ratios:
        print(f"\nmedian ratio over {len(ratios)} rounds, ours / PyTorch: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
