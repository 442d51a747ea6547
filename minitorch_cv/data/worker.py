"""Inside a DataLoader worker process: seeding, the task loop, ``get_worker_info``.

A worker receives tasks ``(ticket, seed, epoch, k, indices)`` on its own queue, builds batch k
with the loader's ``BatchFetcher`` (fetch.py) and puts ``(ticket, k, worker_id,
payload)`` on the shared result queue, where payload is the pickled batch or a
``WorkerFailure``. ``None`` on its queue tells it to exit; it also exits by itself when
the process that started it is gone (so a killed training script leaves no workers).

Seeding, as PyTorch's workers: ``seed = base_seed + worker_id`` seeds Python's ``random``
and minitorch_cv's generators (``manual_seed``), NumPy's global generator gets a state
derived from (base_seed, worker_id), then ``worker_init_fn(worker_id)`` runs. The
loader draws base_seed from (its seed, epoch), so runs are reproducible. The batches
themselves do not depend on these seeds (fetch.py); they matter for code that draws
from the global generators outside the loader's control.

A worker also runs with one CPU thread (``set_num_threads(1)``, as PyTorch's) and the
parent's default dtype.
"""
import os
import pickle
import queue
import random
import traceback

import numpy as np

from .. import dtypes, threads
from .. import random as mt_random
from .fetch import loading_description

_POLL_SECONDS = 0.1

_worker_info = None


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``,
    ``seed`` and ``dataset`` (this process's copy)."""

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 - PyTorch's name
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


def get_worker_info():
    """``WorkerInfo`` in a DataLoader worker process, None in the main process."""
    return _worker_info


class WorkerFailure:
    """An exception raised in a worker, in a form that always pickles: its type (when
    that pickles), message and formatted traceback, and what was being loaded."""

    def __init__(self, worker_id, error, loading):
        self.worker_id = worker_id
        self.loading = loading
        self.type_name = type(error).__name__
        self.traceback = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        try:
            pickle.loads(pickle.dumps(type(error)))
            self.type = type(error)
        except Exception:  # a class defined where the main process cannot find it
            self.type = None

    def exception(self, where):
        """The exception to raise in the main process (same type when possible)."""
        message = (
            f"Caught {self.type_name} in DataLoader worker {self.worker_id} while loading "
            f"{self.loading} ({where}).\nOriginal traceback in the worker:\n{self.traceback}"
        )
        if self.type is not None:
            try:
                return self.type(message)
            except Exception:  # an exception class whose constructor needs other arguments
                pass
        return RuntimeError(message)


def _seed(worker_id, base_seed):
    seed = base_seed + worker_id
    random.seed(seed)
    mt_random.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(4))
    return seed


def worker_loop(worker_id, num_workers, fetcher, task_queue, result_queue, base_seed,
                worker_init_fn, default_dtype, parent_pid):
    """The target of each worker process (see the module docstring)."""
    global _worker_info
    init_failure = None
    try:
        threads.set_num_threads(1)
        dtypes.set_default_dtype(default_dtype)
        worker_seed = _seed(worker_id, base_seed)
        _worker_info = WorkerInfo(worker_id, num_workers, worker_seed, fetcher.dataset)
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
    except Exception as error:  # reported with the first task, in the main process
        init_failure = WorkerFailure(worker_id, error, "(worker_init_fn / start-up)")

    while True:
        try:
            task = task_queue.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:  # the main process is gone
                return
            continue
        if task is None:
            return
        ticket, seed, epoch, k, indices = task
        if init_failure is not None:
            payload = init_failure
        else:
            try:
                batch = fetcher.fetch(seed, epoch, k, indices)
                payload = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
            except Exception as error:
                loading = loading_description(error, f"batch {k}")
                payload = WorkerFailure(worker_id, error, loading)
        result_queue.put((ticket, k, worker_id, payload))
