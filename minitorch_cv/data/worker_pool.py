"""The worker processes of ``DataLoader(num_workers=N)``, seen from the main process:
starting them, handing out batches, collecting them in order, ending them in every case.

Batch k goes to worker k mod N (each worker has its own task queue); at most
``prefetch_factor * N`` batches are requested ahead of the one the caller waits for.
Results come back on one shared queue, tagged with the epoch's ticket and k, and are
handed out in k order, so the order never depends on which worker is faster.

Start method: "spawn" (a fresh interpreter per worker), unless the loader's
``multiprocessing_context`` says otherwise. Not "fork", Linux's default, because the
process being copied runs thread pools that do not survive a fork: Numba's (started
when minitorch_cv is imported; with the GNU OpenMP layer a forked child that runs a
parallel kernel is terminated with "fork() called from a process already using GNU
OpenMP, this is unsafe", seen on this project's machine), OpenBLAS's, and the loader's
own prefetch thread; a lock held by any of those threads at the moment of the fork
stays locked forever in the child. CPython 3.12 warns about fork in a multi-threaded
process and 3.14 stops using it by default on Linux. The cost of spawn: each worker
imports minitorch_cv (about a second), so use ``persistent_workers=True`` to pay it once
per loader rather than once per epoch; the data set, ``collate_fn``, transforms and
``worker_init_fn`` are pickled to the workers (no lambdas or local functions); and a
script must create its loaders under ``if __name__ == "__main__":``, as on macOS and
Windows with PyTorch.

Ending. ``close()`` sends each worker an exit marker, waits for them (reading any
results still in the pipe, which a worker may be blocked writing), then terminates any
still running; it runs at the end of an epoch (non-persistent workers), on an exception,
on ``break`` (the iterator is dropped) and when a persistent loader is garbage
collected. A worker also exits by itself when the main process dies. A worker that dies
(killed, crashed in C code) is noticed while waiting for results and reported with its
id, exit code and the batch it was loading.
"""
import multiprocessing
import os
import pickle
import queue
import signal
import time

from .. import dtypes
from .fetch import summarize_indices
from .worker import WorkerFailure, worker_loop

START_METHOD = "spawn"
_POLL_SECONDS = 0.1
_JOIN_SECONDS = 5.0


def _context(multiprocessing_context):
    if multiprocessing_context is None:
        return multiprocessing.get_context(START_METHOD)
    if isinstance(multiprocessing_context, str):
        return multiprocessing.get_context(multiprocessing_context)
    return multiprocessing_context


def _exit_description(exitcode):
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited unexpectedly with exit code {exitcode}"


class WorkerPool:
    def __init__(self, fetcher, num_workers, base_seed, worker_init_fn=None,
                 multiprocessing_context=None, prefetch_factor=2, timeout=0):
        context = _context(multiprocessing_context)
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.timeout = timeout
        self.closed = False
        self._result_queue = context.Queue()
        self._task_queues = []
        self._workers = []
        for worker_id in range(num_workers):
            task_queue = context.Queue()
            process = context.Process(
                target=worker_loop,
                args=(worker_id, num_workers, fetcher, task_queue, self._result_queue,
                      base_seed, worker_init_fn, dtypes.DEFAULT_FLOAT, os.getpid()),
                name=f"minitorch_cv-DataLoader-worker-{worker_id}",
                daemon=True,
            )
            self._task_queues.append(task_queue)
            try:
                process.start()
            except (pickle.PicklingError, AttributeError, TypeError) as error:
                self.close()
                raise TypeError(
                    f"DataLoader(num_workers={num_workers}): the data set, collate_fn, "
                    "transform and worker_init_fn are sent to the worker processes (started "
                    f"with {context.get_start_method()!r}, see data/worker_pool.py) and must "
                    "pickle: define them at module level (no lambdas or local functions), "
                    f"or use num_workers=0. Pickling failed: {error}"
                ) from error
            self._workers.append(process)

    @property
    def pids(self):
        return [process.pid for process in self._workers]

    def batches(self, ticket, seed, epoch, plan, start=0):
        """Yield the batches ``plan[start:]`` of ``epoch`` in order (see the module
        docstring); ``ticket`` tells this epoch's results from an abandoned one's."""
        in_flight = {}  # k -> the worker loading it
        received = {}  # k -> payload
        next_to_send = next_to_yield = start
        ahead = self.prefetch_factor * self.num_workers
        while next_to_yield < len(plan):
            while next_to_send < len(plan) and len(in_flight) + len(received) < ahead:
                worker_id = next_to_send % self.num_workers
                task = (ticket, seed, epoch, next_to_send, plan[next_to_send])
                self._task_queues[worker_id].put(task)
                in_flight[next_to_send] = worker_id
                next_to_send += 1
            while next_to_yield not in received:
                result_ticket, k, _, payload = self._next_result(in_flight, plan, epoch)
                if result_ticket == ticket:
                    del in_flight[k]
                    received[k] = payload
            payload = received.pop(next_to_yield)
            where = f"batch {next_to_yield} of epoch {epoch}"
            next_to_yield += 1
            if isinstance(payload, WorkerFailure):
                raise payload.exception(where)
            yield pickle.loads(payload)

    def _next_result(self, in_flight, plan, epoch):
        started = time.monotonic()
        while True:
            try:
                return self._result_queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                pass
            self._check_workers(in_flight, plan, epoch)
            if self.timeout and time.monotonic() - started > self.timeout:
                raise RuntimeError(
                    f"DataLoader timed out after {self.timeout} seconds waiting for a "
                    f"batch from its workers (batches {sorted(in_flight)} of epoch {epoch} "
                    "are still loading)"
                )

    def _check_workers(self, in_flight, plan, epoch):
        for worker_id, process in enumerate(self._workers):
            if process.exitcode is None:
                continue
            own = sorted(k for k, owner in in_flight.items() if owner == worker_id)
            if own:
                doing = f"while loading batch {own[0]} of epoch {epoch} (samples {summarize_indices(plan[own[0]])})"
            else:
                doing = "while idle"
            self.close()
            raise RuntimeError(
                f"DataLoader worker {worker_id} (pid {process.pid}) "
                f"{_exit_description(process.exitcode)} {doing}. If the script creates "
                "its DataLoader at module level, put that code under "
                "`if __name__ == \"__main__\":` (workers are started with spawn)."
            )

    def close(self):
        """End every worker (see the module docstring); safe to call more than once."""
        if self.closed:
            return
        self.closed = True
        for task_queue in self._task_queues:
            try:
                task_queue.put(None)
            except (OSError, ValueError):  # the queue is already closed
                pass
        deadline = time.monotonic() + _JOIN_SECONDS
        for process in self._workers:
            while process.is_alive() and time.monotonic() < deadline:
                self._drain()
                process.join(_POLL_SECONDS)
        for process in self._workers:
            if process.is_alive():
                process.terminate()
                process.join(_JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        for each in self._task_queues + [self._result_queue]:
            each.cancel_join_thread()
            each.close()

    def _drain(self):
        try:
            while True:
                self._result_queue.get_nowait()
        except (queue.Empty, OSError, ValueError):
            pass

    def __del__(self):
        if not getattr(self, "closed", True):
            self.close()
