"""``DataLoader``: batches of a data set, shuffled reproducibly, prepared in the background
by a thread or by worker processes. PyTorch's signature, plus three keywords.

    loader = DataLoader(train_set, batch_size=128, shuffle=True, generator=seed,
                        num_workers=2, persistent_workers=True,
                        transform=Compose([RandomCrop(32, padding=4),
                                           RandomHorizontalFlip(),
                                           Normalize(CIFAR10_MEAN, CIFAR10_STD)]))
    for epoch in range(start_epoch, epochs):
        loader.set_epoch(epoch)               # optional: iter() advances it by itself
        for images, labels in loader:         # Tensors: float32 (N, C, H, W), int64 (N,)
            ...

With the default collate, each batch is a list of Tensors, one per field of the samples
(for the image data sets: images, then labels; a dict for dict samples). Images stay
uint8 unless a transform makes them float32. A ``collate_fn`` decides the batch itself
(``default_collate`` gives the default's Tensors).

Which samples. ``sampler`` (an iterable of indices; default ``RandomSampler`` seeded
with the loader's seed when ``shuffle=True``, else ``SequentialSampler``) grouped by
``batch_size``/``drop_last`` (a ``BatchSampler``), or a ``batch_sampler`` giving whole
lists. ``batch_size=None`` turns batching off: each item is one sample.

How a batch is built: see fetch.py. Batch k of epoch e draws every random number from
its own generator, derived from (seed, e, k), which is also installed as minitorch_cv's
CPU generator while the batch is built. So the batches are identical with and without
prefetch, with any number of workers, and after a resume.

Where. ``num_workers=0``: in the calling process, by a background thread that keeps
the next two batches ready (``prefetch=True``; NumPy releases the GIL, which is enough
for array-backed sets), or in the loop itself (``prefetch=False``). ``num_workers=N``:
in N worker processes (worker_pool.py, which explains the start method and what must
pickle; worker.py for their seeding and ``get_worker_info``), with at most
``prefetch_factor * N`` batches requested ahead. ``persistent_workers=True`` keeps them
from one epoch to the next (they keep the data set as it was when they started).

Reproducible and resumable (see ``seeding.py``). ``generator``: an int seed, a NumPy
generator or None; the last two are turned into a seed by one draw at construction
(None draws from minitorch_cv's CPU generator, so ``manual_seed`` before building the
loader fixes everything). ``loader.epoch`` is the epoch the next ``iter()`` uses; each
``iter()`` then advances it by one, so consecutive epochs reshuffle. To resume:

    loader.set_epoch(epoch)                       # the (seed, epoch) way, or
    state = loader.state_dict()                   # {"seed", "epoch", "batch"} ints
    loader.load_state_dict(state)                 # continues at that batch of that epoch

``state_dict()`` taken during an epoch, or after one was interrupted (Ctrl-C, ``break``),
records how many of its batches were handed out, so a run interrupted mid-epoch resumes
with the next batch. Nothing else needs saving when the loader built its sampler; a
sampler given by the caller must be put back in its state by the caller.

Additions to PyTorch's signature: ``transform`` (a batch transform applied to the first
field of every batch, with the batch's generator), ``prefetch`` and ``device`` (batches
are moved there); ``set_epoch``, ``state_dict``, ``order``. Differences: ``generator``
is a seed or NumPy generator; ``pin_memory`` is accepted and has no effect (host
arrays are copied to the GPU by ``device=`` or ``.to()``); batches travel from workers
by pickling through a pipe, not shared memory; no ``IterableDataset``; an exception in
the data set ends the epoch (PyTorch lets the iteration go on).
"""
import numbers
import weakref

import numpy as np

from .. import devices as _device
from ..tensor import Tensor
from . import seeding
from .fetch import BatchFetcher, default_convert, loading_description
from .prefetch import BackgroundIterator
from .sampler import BatchSampler, RandomSampler, SequentialSampler, batch_plan, sampler_indices
from .worker_pool import WorkerPool

PREFETCH_DEPTH = 2


class DataLoader:
    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        transform=None,
        prefetch=True,
        device="cpu",
    ):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"dataset: expected an object with __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        _check_batching(batch_size, shuffle, sampler, batch_sampler, drop_last)
        _check_workers(num_workers, prefetch_factor, persistent_workers, timeout)
        for name, value in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn),
                            ("transform", transform)):
            if value is not None and not callable(value):
                raise TypeError(f"{name}: expected a callable, got {type(value).__name__}")
        self.dataset = dataset
        self.batch_size = batch_size if batch_sampler is None else None  # PyTorch's attribute
        self.shuffle = bool(shuffle)
        self.seed = seeding.base_seed(generator)
        self._own_sampler = sampler is None and batch_sampler is None
        if sampler is None:
            sampler = RandomSampler(dataset, generator=self.seed) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.transform = transform
        self.num_workers = int(num_workers)
        if num_workers and prefetch_factor is None:
            prefetch_factor = 2
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.timeout = timeout
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.prefetch = bool(prefetch)
        self.device = _device.normalize(device)
        self.epoch = 0
        self._start_batch = 0
        # (epoch, batches handed out) of the epoch started last, while it is unfinished;
        # only the newest iterator (ticket == self._iterations) reports into it.
        self._in_progress = None
        self._iterations = 0
        self._pool = None  # the persistent workers, once started

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    def __len__(self):
        """Batches per epoch: ceil(N / batch_size), or floor with drop_last (PyTorch)."""
        return len(self.batch_sampler) if self._auto_collation else len(self.sampler)

    # ------------------------------------------------------------ order and resuming
    def set_epoch(self, epoch):
        """Make the next ``iter()`` produce epoch ``epoch`` from its first batch."""
        if not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"epoch: expected a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)
        self._start_batch = 0
        self._in_progress = None

    def state_dict(self):
        """{"seed", "epoch", "batch"}: where the next batch will come from.

        Between epochs: (the next epoch, 0). During an epoch, or after it was left
        unfinished (``break``, Ctrl-C, an exception): that epoch and the number of its
        batches already handed out, so a resumed run continues with the next one.
        """
        if self._in_progress is not None:
            epoch, batch = self._in_progress
        else:
            epoch, batch = self.epoch, self._start_batch
        return {"seed": self.seed, "epoch": epoch, "batch": batch}

    def load_state_dict(self, state):
        """Continue from a ``state_dict()``: the next ``iter()`` starts at its batch."""
        missing = {"seed", "epoch", "batch"} - set(state)
        if missing:
            raise KeyError(f"state: missing keys {sorted(missing)}")
        batch = int(state["batch"])
        if not 0 <= batch <= len(self):
            raise ValueError(f"state['batch']: expected 0..{len(self)}, got {batch}")
        self.seed = seeding.base_seed(int(state["seed"]))
        if self._own_sampler and isinstance(self.sampler, RandomSampler):
            self.sampler.seed = self.seed
        self.set_epoch(int(state["epoch"]))
        self._start_batch = batch

    def _plan(self, epoch):
        """The batches of ``epoch``: int64 index arrays (single ints without batching)."""
        if self._own_sampler and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)
        if self._auto_collation:
            return batch_plan(self.batch_sampler)
        return sampler_indices(self.sampler).tolist()

    def order(self, epoch):
        """The sample indices of ``epoch`` in the order they are served (int64, (N,))."""
        plan = self._plan(epoch)
        if not self._auto_collation:
            return np.asarray(plan, dtype=np.int64)
        return np.concatenate(plan) if plan else np.zeros(0, np.int64)

    # ---------------------------------------------------------------- iterating
    def _fetcher(self):
        return BatchFetcher(self.dataset, self.collate_fn, self.transform, self._auto_collation)

    def _workers(self, epoch):
        """The worker pool for ``epoch``: the persistent one, or a new one."""
        if self._pool is not None and not self._pool.closed:
            return self._pool
        base_seed = int(seeding.derive(self.seed, epoch, seeding.WORKERS).integers(0, 2**62))
        pool = WorkerPool(self._fetcher(), self.num_workers, base_seed, self.worker_init_fn,
                          self.multiprocessing_context, self.prefetch_factor, self.timeout)
        if self.persistent_workers:
            self._pool = pool
            weakref.finalize(self, pool.close)
        return pool

    def __iter__(self):
        epoch, start = self.epoch, self._start_batch
        self.epoch, self._start_batch = epoch + 1, 0
        plan = self._plan(epoch)
        self._iterations += 1
        ticket = self._iterations
        owned_pool = None
        if self.num_workers > 0:
            pool = self._workers(epoch)
            owned_pool = None if self.persistent_workers else pool
            batches = pool.batches(ticket, self.seed, epoch, plan, start)
        else:
            batches = _fetch_in_order(self._fetcher(), self.seed, epoch, plan, start)
            if self.prefetch:
                batches = BackgroundIterator(batches, depth=PREFETCH_DEPTH)
        self._in_progress = (epoch, start)
        return _EpochIterator(self, ticket, epoch, start, len(plan), batches, owned_pool)

    def _report(self, ticket, position):
        """Called by the iterator ``ticket`` after each batch; None once the epoch is done."""
        if ticket == self._iterations:
            self._in_progress = position

    def _deliver(self, fields):
        """A fetched batch as the caller gets it: Tensors on ``device``."""
        if self.collate_fn is None:
            fields = default_convert(fields)
        return _to_device(fields, self.device)

    def __repr__(self):
        return (
            f"DataLoader(dataset={type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, num_workers={self.num_workers}, seed={self.seed}, "
            f"epoch={self.epoch}, prefetch={self.prefetch}, device={self.device!r})"
        )


def _check_batching(batch_size, shuffle, sampler, batch_sampler, drop_last):
    if batch_size is not None and (
        not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0
    ):
        raise ValueError(f"batch_size: expected a positive integer or None, got {batch_size!r}")
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
        raise ValueError(
            "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
            "and drop_last"
        )
    if batch_size is None and drop_last:
        raise ValueError(
            "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
        )


def _check_workers(num_workers, prefetch_factor, persistent_workers, timeout):
    if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
        raise ValueError(
            "num_workers: expected a non-negative integer (0 loads in the main process), "
            f"got {num_workers!r}"
        )
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "prefetch_factor option could only be specified in multiprocessing: let "
            "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None"
        )
    if prefetch_factor is not None and (not isinstance(prefetch_factor, numbers.Integral) or prefetch_factor < 1):
        raise ValueError(f"prefetch_factor: expected a positive integer, got {prefetch_factor!r}")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if not isinstance(timeout, numbers.Real) or timeout < 0:
        raise ValueError(f"timeout: expected a non-negative number of seconds, got {timeout!r}")


def _fetch_in_order(fetcher, seed, epoch, plan, start):
    """The batches ``plan[start:]`` built in this process (or its prefetch thread)."""
    for k in range(start, len(plan)):
        try:
            yield fetcher.fetch(seed, epoch, k, plan[k])
        except Exception as error:
            if hasattr(error, "add_note"):  # Python >= 3.11
                loading = loading_description(error, f"batch {k}")
                error.add_note(f"(raised while the DataLoader loaded {loading} of epoch {epoch})")
            raise


def _to_device(value, device):
    if isinstance(value, Tensor):
        return value if value.device == device else Tensor._wrap(_device.to_device(value.array, device))
    if isinstance(value, dict):
        return {key: _to_device(item, device) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_device(item, device) for item in value]
    if isinstance(value, tuple):
        return tuple(_to_device(item, device) for item in value)
    return value


class _EpochIterator:
    """One pass over the loader; reports the batches it hands out (for ``state_dict``)
    and ends its workers (non-persistent) or thread when it finishes, fails or is dropped."""

    def __init__(self, loader, ticket, epoch, start, total, batches, pool=None):
        self.loader = loader
        self.ticket = ticket
        self.epoch = epoch
        self.position = start
        self.total = total
        self.finished = False
        self._batches = batches
        self._pool = pool

    def __iter__(self):
        return self

    def __len__(self):
        return self.total - self.position

    def __next__(self):
        if self.finished:
            raise StopIteration
        try:
            fields = next(self._batches)
        except StopIteration:
            self.close()
            self.loader._report(self.ticket, None)
            raise
        except BaseException:  # the position stays: a resumed run retries this batch
            self.close()
            raise
        self.position += 1
        done = self.position >= self.total
        self.loader._report(self.ticket, None if done else (self.epoch, self.position))
        if done and self._pool is not None:
            self._pool.close()  # the workers are not needed any more
        return self.loader._deliver(fields)

    def close(self):
        """Stop early: the background thread or the epoch's worker processes exit."""
        self.finished = True
        if isinstance(self._batches, BackgroundIterator):
            self._batches.close()
        if self._pool is not None:
            self._pool.close()

    def __del__(self):
        if not getattr(self, "finished", True):
            self.close()
