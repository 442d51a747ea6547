"""How many CPU threads the kernels use: ``set_num_threads(n)`` / ``get_num_threads()``.

Two thread pools do the CPU work: Numba's (the parallel kernels of kernels/cpu) and the
BLAS library's that NumPy calls for every matrix product (the convolutions' GEMMs).
Each sizes itself to the whole machine, and they take turns many times per training
step. A pool's idle workers spin for a while before they sleep, so each pool's spinning
workers steal the cores the other needs: on a 2-core machine a ResNet-20 step took 2.4 s
with both pools at their default size and 1.7 s with one thread each, and collapsed to
~30 s while another process was busy (see benchmarks/bench_resnet_step.py).
``set_num_threads`` sizes both pools at once, as ``torch.set_num_threads`` does, and
also the convolutions' own pool (ops/chunk_pool.py): ``n`` threads that each run whole
batch chunks, im2col and GEMM, with Numba and OpenBLAS single-threaded inside, so that
the convolutions, most of a step, need no handoff between the two libraries' pools.

Importing minitorch_cv starts Numba's pool with passive workers (OpenMP's
OMP_WAIT_POLICY=PASSIVE: an idle worker sleeps at once instead of spinning), so that
between two short kernels Numba's workers leave the cores to BLAS; this brought the
2-core step from 2.4 s to 1.5 s, and from 3.8 s to 2.1-2.8 s beside a busy process.
An OMP_WAIT_POLICY set by the user is respected.

The BLAS pool is reached through the C functions that OpenBLAS exports (NumPy's wheels
ship OpenBLAS under prefixed names, which are tried too); with another BLAS only
Numba's pool is sized, and the environment variables of that BLAS still apply.

Beside PyTorch in one process (a benchmark, a notebook that compares the two): three
pools may then spin, NumPy's OpenBLAS, Numba's OpenMP runtime (the system's libgomp) and
PyTorch's OpenMP runtime (its pip wheel bundles its own libgomp.so.1, used by ATen,
oneDNN and MKL). What was verified, with benchmarks/check_thread_pools.py (per-thread CPU
clocks: the CPU time that the OTHER threads of the process burn while one framework runs
a step right after the other, which is idle workers spinning; ResNet-20, batch 32):

- Import minitorch_cv first (the default above): PyTorch's libraries then reuse the
  libgomp.so.1 already loaded, whose workers were started passive, so PyTorch's workers
  sleep too: 0 ms burnt during our step after PyTorch's. Imported after PyTorch, Numba
  gets a libgomp of its own and PyTorch's spins after each of its parallel regions
  (8 ms during our 139 ms step; with OMP_WAIT_POLICY=ACTIVE, 156 ms: a whole core).
- Whatever the order: OMP_WAIT_POLICY=PASSIVE (or GOMP_SPINCOUNT=0 for libgomp) in the
  environment before Python starts; every OpenMP runtime reads it when it loads (0 ms).
  KMP_BLOCKTIME=0 is the same setting for Intel's and LLVM's runtimes (libiomp5, libomp:
  conda builds of PyTorch); they are not in a pip install, so that was not verified.
- NumPy's OpenBLAS spins after each matrix product for about 2**28 cycles (0.1 s) before
  it sleeps: 24 ms burnt during PyTorch's 88 ms step after ours. OPENBLAS_THREAD_TIMEOUT=4
  (2**4 cycles) in the environment before NumPy loads stops it (0 ms); OpenBLAS has no
  call to change it afterwards, so this module cannot.
- Numba's threading layer: NUMBA_THREADING_LAYER=workqueue (no OpenMP at all) burnt more,
  not less (46 ms), and that layer is not thread-safe; the TBB layer needs the tbb package
  (not installed here, not verified). The default OpenMP layer stays.

Hence benchmarks time PyTorch in a process of its own (benchmarks/bench_resnet_step.py),
and run an untimed step on each side before timing it, by which time the other side's
spinning workers have gone to sleep.
"""
import ctypes
import functools
import os

import numba

# The names the OpenBLAS setter goes by: upstream, the 64-bit-integer build, and the
# prefixed builds inside NumPy's and SciPy's wheels.
_OPENBLAS_PREFIXES = ("openblas", "scipy_openblas", "openblas64_")
_SETTER_SUFFIXES = ("_set_num_threads", "_set_num_threads64_")
_GETTER_SUFFIXES = ("_get_num_threads", "_get_num_threads64_")
_CORENAME_SUFFIXES = ("_get_corename", "_get_corename64_")


def start_numba_workers_passive():
    """Start Numba's thread pool with OMP_WAIT_POLICY=PASSIVE unless the user set a policy.

    OpenMP reads the variable once, when Numba's OpenMP layer loads it at the pool's
    start; the variable is removed again afterwards so that other OpenMP runtimes loaded
    later in the process (PyTorch's, in a benchmark) keep their own defaults. With the TBB
    or workqueue layer the variable has no effect.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        numba.get_num_threads()  # starts the pool
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        numba.get_num_threads()
    finally:
        del os.environ["OMP_WAIT_POLICY"]


def set_num_threads(n):
    """Use ``n`` threads in the Numba kernels and in NumPy's BLAS.

    Numba keeps the setting per calling thread: call it from the thread that runs the
    model (the data loader's prefetch thread runs no Numba kernels)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    if n > numba.config.NUMBA_NUM_THREADS:
        raise ValueError(
            f"set_num_threads: n must be at most {numba.config.NUMBA_NUM_THREADS} (the size of "
            f"Numba's thread pool, fixed at start-up by NUMBA_NUM_THREADS), got {n}"
        )
    numba.set_num_threads(n)
    set_blas_num_threads(n)


def set_blas_num_threads(n):
    """Size NumPy's OpenBLAS pool alone (nothing happens with another BLAS)."""
    setter = _openblas_function(_SETTER_SUFFIXES, (ctypes.c_int,), None)
    if setter is not None:
        setter(n)


def get_num_threads():
    """The number of threads the Numba kernels use (``set_num_threads`` sizes BLAS alike)."""
    return numba.get_num_threads()


def blas_num_threads():
    """The number of threads of NumPy's OpenBLAS, or None when that BLAS is not OpenBLAS."""
    getter = _openblas_function(_GETTER_SUFFIXES, (), ctypes.c_int)
    return None if getter is None else getter()


def blas_core_name():
    """The CPU family whose kernels NumPy's OpenBLAS runs ("Haswell": AVX2, "SkylakeX":
    AVX-512, ...), or None when that BLAS is not OpenBLAS. OpenBLAS picks it when it
    loads, from the CPU or from the OPENBLAS_CORETYPE environment variable; it sets the
    speed of every convolution's GEMM, so the benchmarks print it."""
    corename = _openblas_function(_CORENAME_SUFFIXES, (), ctypes.c_char_p)
    return None if corename is None else corename().decode()


@functools.cache
def _openblas_function(suffixes, argtypes, restype):
    """The first exported ``<prefix><suffix>`` of an OpenBLAS already loaded by NumPy, with
    those C types; looked up once (the convolutions set and read the number of threads
    around every batch of chunks, see ops/chunk_pool.py)."""
    for path in _loaded_openblas_paths():
        library = ctypes.CDLL(path)
        for prefix in _OPENBLAS_PREFIXES:
            for suffix in suffixes:
                function = getattr(library, prefix + suffix, None)
                if function is not None:
                    function.argtypes, function.restype = list(argtypes), restype
                    return function
    return None


def _loaded_openblas_paths():
    """Paths of the shared libraries with "openblas" in their name mapped into this process
    (Linux's /proc/self/maps; elsewhere none are found and only Numba is sized)."""
    import numpy.linalg  # noqa: F401  (loads NumPy's BLAS if nothing has yet)

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in os.path.basename(line.strip())}
    except OSError:
        return []
    return sorted(path for path in paths if os.path.isfile(path))
