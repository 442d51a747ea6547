"""Whose idle workers spin when minitorch_cv and PyTorch train in one process, and which
setting stops them: the evidence for the "beside PyTorch" notes in minitorch_cv/threads.py.

    VENV/bin/python benchmarks/check_thread_pools.py       # VENV: a PyTorch venv, see below

Each configuration (an import order and environment variables, set before Python starts)
runs in a fresh process, which trains a ResNet-20 of each framework on a batch of 32 and
measures two things with per-thread CPU clocks, which do not depend on the machine's load:

  after PyTorch: PyTorch runs a step on 2 threads, then ours runs on 1 thread; the CPU time
                 that the process's OTHER threads burn during our step is spinning by idle
                 workers (nothing else is left to run);
  after ours:    ours runs a step on 2 threads, then PyTorch runs on 1 thread; likewise.

Median over 5 repetitions, in milliseconds, beside the CPU time of the measured step
itself. The libgomp copies loaded in the process are listed: PyTorch's pip wheel bundles
its own libgomp.so.1, Numba's OpenMP layer uses the system's.

The PyTorch venv: ``bash ../shared/tools/torch-reference-env.sh VENV`` from the checkout's
root (PyTorch CPU, this checkout installed in it).
"""
import os
import statistics
import subprocess
import sys
import time

CONFIGURATIONS = [
    ("minitorch_cv imported first (default)", "minitorch_cv", {}),
    ("PyTorch imported first", "torch", {}),
    ("PyTorch first, OMP_WAIT_POLICY=PASSIVE", "torch", {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("PyTorch first, GOMP_SPINCOUNT=0", "torch", {"GOMP_SPINCOUNT": "0"}),
    ("OMP_WAIT_POLICY=ACTIVE (spin)", "minitorch_cv", {"OMP_WAIT_POLICY": "ACTIVE"}),
    ("OPENBLAS_THREAD_TIMEOUT=4", "minitorch_cv", {"OPENBLAS_THREAD_TIMEOUT": "4"}),
    ("NUMBA_THREADING_LAYER=workqueue", "torch", {"NUMBA_THREADING_LAYER": "workqueue"}),
]
BATCH = 32
REPEATS = 5


def worker(first):
    """One configuration: prints one line of tab-separated figures."""
    if first == "torch":
        import torch
    import minitorch_cv as mt
    import torch  # noqa: F811 - second import when PyTorch came first
    import numba

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _torch_step import resnet20 as torch_resnet20
    from torch.nn import functional as TF

    model = mt.models.get_model("resnet20")
    optimizer = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = mt.nn.CrossEntropyLoss()
    images, labels = mt.randn(BATCH, 3, 32, 32), mt.randint(0, 10, (BATCH,))
    torch_model = torch_resnet20()
    torch_optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
    torch_images, torch_labels = torch.randn(BATCH, 3, 32, 32), torch.randint(0, 10, (BATCH,))

    def ours():
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def theirs():
        loss = TF.cross_entropy(torch_model(torch_images), torch_labels)
        torch_optimizer.zero_grad()
        loss.backward()
        torch_optimizer.step()

    def others_during(step):
        """(CPU of this thread, CPU of every other thread) while ``step`` runs, in ms."""
        process, thread = time.process_time(), time.thread_time()
        step()
        mine = time.thread_time() - thread
        return mine * 1000, (time.process_time() - process - mine) * 1000

    figures = []
    for first_side, first_threads, second, second_threads in (
        (theirs, 2, ours, 1),  # after PyTorch: its workers idle while ours runs
        (ours, 2, theirs, 1),  # after ours: our workers idle while PyTorch runs
    ):
        results = []
        for _ in range(REPEATS + 1):
            mt.set_num_threads(first_threads if first_side is ours else second_threads)
            torch.set_num_threads(first_threads if first_side is theirs else second_threads)
            first_side()
            results.append(others_during(second))
        results = results[1:]  # the first one compiles and warms up
        figures += [statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)]
    with open("/proc/self/maps") as maps:
        libraries = sorted({line.split()[-1] for line in maps if "libgomp" in line})
    print("\t".join([f"{f:.0f}" for f in figures] + [numba.threading_layer(), " ".join(libraries)]))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(sys.argv[2])
        return
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("check_thread_pools.py needs PyTorch: run it with a PyTorch venv's Python "
                 "(bash ../shared/tools/torch-reference-env.sh VENV)")
    print(f"ResNet-20, batch {BATCH}; CPU ms (median of {REPEATS}) of the measured step's own thread "
          "and of all the other threads during it")
    header = f"{'configuration':<42}{'after PyTorch: ours':>22}{'others':>8}{'after ours: PyTorch':>22}{'others':>8}"
    print(header + "  Numba layer, libgomp loaded")
    for name, first, environment in CONFIGURATIONS:
        result = subprocess.run([sys.executable, __file__, "--worker", first],
                                env=dict(os.environ, **environment), capture_output=True, text=True)
        if result.returncode:
            print(f"{name:<42}failed: {result.stderr.strip().splitlines()[-1:]}")
            continue
        *numbers, layer, libraries = result.stdout.strip().splitlines()[-1].split("\t")
        print(f"{name:<42}{numbers[0]:>22}{numbers[1]:>8}{numbers[2]:>22}{numbers[3]:>8}  {layer}, {libraries}")


if __name__ == "__main__":
    main()
