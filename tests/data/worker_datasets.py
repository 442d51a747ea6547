"""Data sets for the worker-process tests. They live in their own module, without pytest,
because worker processes are spawned and import what they unpickle."""
import os
import random

import numpy as np

import minitorch_cv as mt
from minitorch_cv.utils.data import Dataset, get_worker_info

INIT_ID = -1  # set by init_worker inside each worker process


def init_worker(worker_id):
    global INIT_ID
    INIT_ID = worker_id


class Probe(Dataset):
    """Sample i: (mt.rand(3) + i, i) plus what the process knows about itself: worker id,
    worker seed, the id worker_init_fn saw and a draw from Python's random module."""

    def __len__(self):
        return 22

    def __getitem__(self, index):
        info = get_worker_info()
        worker_id, seed = (-1, -1) if info is None else (info.id, info.seed)
        return (mt.rand(3).numpy() + index, index, worker_id, seed, INIT_ID, random.random())


class Failing(Dataset):
    """Raises at sample 13."""

    def __len__(self):
        return 20

    def __getitem__(self, index):
        if index == 13:
            raise ValueError("sample 13 is broken")
        return np.zeros(2, np.float32), index


class Dying(Dataset):
    """The process loading sample 7 exits at once, as if it crashed in C code."""

    def __len__(self):
        return 20

    def __getitem__(self, index):
        if index == 7 and get_worker_info() is not None:
            os._exit(3)
        return np.zeros(2, np.float32), index
