"""DataLoader(num_workers=N): real worker processes give the batches the main process
gives, are seeded as PyTorch's, report a failing sample with the worker and the index,
and never outlive the loop, an exception or the loader.

Each test starts worker processes (spawn: about a second each), so the tests are few
and use two workers."""
import gc
import multiprocessing
import random

import numpy as np
import pytest

from minitorch_cv.utils.data import DataLoader
from tests.data import worker_datasets as wd


def _fields(loader):
    return [[field.numpy().copy() for field in batch] for batch in loader]


def _no_workers_left():
    return [child for child in multiprocessing.active_children()
            if child.name.startswith("minitorch_cv-DataLoader-worker")]


def test_workers_give_the_main_process_batches_and_are_seeded_as_pytorch():
    kwargs = dict(batch_size=4, shuffle=True, generator=11)
    serial = DataLoader(wd.Probe(), **kwargs)
    parallel = DataLoader(wd.Probe(), num_workers=2, persistent_workers=True,
                          worker_init_fn=wd.init_worker, **kwargs)
    for epoch in range(2):
        expected, got = _fields(serial), _fields(parallel)
        assert len(got) == len(expected) == 6
        for k, (ours, theirs) in enumerate(zip(expected, got)):
            np.testing.assert_array_equal(ours[0], theirs[0])  # mt.rand draws and order
            np.testing.assert_array_equal(ours[1], theirs[1])
            assert (ours[2] == -1).all() and (theirs[2] == k % 2).all()  # batch k: worker k % 2
            assert (theirs[4] == theirs[2]).all()  # worker_init_fn ran with the worker id
        seeds = {int(b[2][0]): int(b[3][0]) for b in got}
        assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
        assert len(_no_workers_left()) == 2  # persistent: still there between epochs
        if epoch == 0:
            # Python's random is seeded with that seed: worker 0's first draw is known
            assert got[0][5][0] == random.Random(seeds[0]).random()
            first_seeds = seeds
    assert seeds == first_seeds  # persistent workers were seeded once
    del parallel
    gc.collect()
    assert _no_workers_left() == []


def test_a_failing_sample_names_the_worker_and_the_index():
    loader = DataLoader(wd.Failing(), batch_size=5, num_workers=2)
    for _ in loader:  # break: the for loop drops its iterator, which ends the workers
        break
    gc.collect()
    assert _no_workers_left() == []
    iterator = iter(loader)
    next(iterator), next(iterator)  # samples 0-9 are fine
    with pytest.raises(ValueError) as caught:
        next(iterator)  # batch 2 (samples 10-14) goes to worker 0
    message = str(caught.value)
    assert "Caught ValueError in DataLoader worker 0 while loading sample 13" in message
    assert "batch 2 of epoch 1" in message and "sample 13 is broken" in message
    with pytest.raises(StopIteration):  # the epoch is over after the error
        next(iterator)
    assert _no_workers_left() == []
    assert loader.state_dict() == {"seed": loader.seed, "epoch": 1, "batch": 2}  # retried on resume


def test_a_dying_worker_is_reported_and_nothing_is_left_behind():
    loader = DataLoader(wd.Dying(), batch_size=5, num_workers=2)
    with pytest.raises(RuntimeError, match=r"DataLoader worker 1 \(pid \d+\) exited "
                                           r"unexpectedly with exit code 3 while loading "
                                           r"batch 1 of epoch 0 \(samples \[5, 6, 7, 8, 9\]\)"):
        for _ in loader:
            pass
    assert _no_workers_left() == []


def test_what_cannot_be_sent_to_a_worker_is_named_before_any_starts():
    loader = DataLoader(wd.Failing(), batch_size=5, num_workers=2, collate_fn=lambda b: b)
    with pytest.raises(TypeError, match="must pickle: define them at module level"):
        iter(loader)
    assert _no_workers_left() == []
