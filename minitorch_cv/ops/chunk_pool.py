"""Run a convolution's batch chunks side by side, one whole chunk per core:
``for_each_chunk(body, chunks, device)`` and ``sum_over_chunks(body, chunks, device)``.

A convolution on the CPU is, per batch chunk, our im2col (a Numba loop) and NumPy's
matrix product (OpenBLAS). Run one chunk after another, each step is split between the
cores by its own library: Numba's pool copies the columns, then OpenBLAS's pool
multiplies them, then Numba's again for the next chunk. Every step is then a handoff
between two pools (a wake-up each time, and OpenBLAS's workers spin for ~0.1 s after each
product, taking the cores Numba's workers need), and each core multiplies columns that
the other core copied, out of the other core's cache. On a 2-core machine a 3x3
convolution of (128, 16, 32, 32) took 13-17 ms that way while the machine's other
virtual CPUs were busy, 7.5 ms while they were quiet.

These functions give each chunk to one thread of a pool of ``get_num_threads()`` threads,
and inside those threads Numba and OpenBLAS run single-threaded: a core copies its
chunk's columns and multiplies them itself, while they are still in its cache, and no
pool waits on another. The same convolution took 5.5 ms.

``sum_over_chunks`` adds the chunks' results up in chunk order (the weight gradient), so
that the rounding does not depend on which thread finished first, and holds only the
results that finished ahead of their turn. With one thread, a single chunk or on the GPU,
the chunks simply run one after another in the calling thread, with the libraries' own
pools.

Every function run in the pool must leave Python's GIL while it computes: NumPy's
matmul and copies do, and the Numba kernels it calls are compiled with ``nogil=True``.
"""
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import numba

from .. import threads
from ..devices import GPU

_pool = None
_pool_size = 0
_pool_lock = threading.Lock()


def for_each_chunk(body, chunks, device):
    """body(chunk) for every chunk (a slice of the batch), on ``get_num_threads()``
    threads at once on the CPU (see the module docstring)."""
    for _ in _results_in_order(body, chunks, device):
        pass


def sum_over_chunks(body, chunks, device):
    """body(chunks[0]) + body(chunks[1]) + ..., added up in that order (into the first
    result, which body must return as a new array); None when there is no chunk."""
    total = None
    for result in _results_in_order(body, chunks, device):
        if total is None:
            total = result
        else:
            total += result
    return total


def _results_in_order(body, chunks, device):
    chunks = list(chunks)
    n = threads.get_num_threads()
    if device == GPU or n == 1 or len(chunks) == 1 or getattr(_in_pool, "active", False):
        for chunk in chunks:
            yield body(chunk)
        return
    pool = _thread_pool(n)
    with _single_threaded_blas():
        yield from pool.map(body, chunks)


_in_pool = threading.local()  # .active: this thread is one of the pool's


def _start_worker():
    """Each pool thread runs its kernels alone: Numba's setting is per thread."""
    numba.set_num_threads(1)
    _in_pool.active = True  # a chunk that itself maps chunks runs them in its own thread


def _thread_pool(n):
    """The pool of n threads, made anew when the number of threads changes."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool_size != n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="minitorch_cv-chunks",
                                       initializer=_start_worker)
            _pool_size = n
        return _pool


@contextlib.contextmanager
def _single_threaded_blas():
    """OpenBLAS with one thread while the pool runs (its setting is global, not per
    thread, and a call costs well under a microsecond); restored afterwards."""
    before = threads.blas_num_threads()
    if before is None or before == 1:
        yield
        return
    threads.set_blas_num_threads(1)
    try:
        yield
    finally:
        threads.set_blas_num_threads(before)
