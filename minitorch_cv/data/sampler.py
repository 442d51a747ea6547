"""Samplers: which sample indices an epoch visits, in which order (PyTorch's
``torch.utils.data`` samplers).

    SequentialSampler(ds)                    0, 1, ..., N-1
    RandomSampler(ds, replacement=False,     a permutation each epoch (or num_samples
                  num_samples=None,          draws with replacement)
                  generator=None)
    SubsetRandomSampler(indices)             a permutation of the given indices
    WeightedRandomSampler(weights,           index i drawn with probability
                          num_samples,       weights[i] / sum(weights)
                          replacement=True)
    DistributedSampler(ds, num_replicas,     this replica's share of a permutation that
                       rank, shuffle=True,   is the same on every replica (seed, epoch)
                       seed=0, drop_last)
    BatchSampler(sampler, batch_size,        groups another sampler's indices into lists
                 drop_last)

A sampler is any iterable of indices (``__len__`` optional); subclass ``Sampler`` or
not. ``DataLoader(shuffle=True)`` builds a ``RandomSampler`` seeded with the loader's
seed; ``batch_size``/``drop_last`` build a ``BatchSampler``.

Randomness. ``generator`` is an int seed, a NumPy ``Generator`` or None (as elsewhere in
minitorch_cv's data code; PyTorch takes a ``torch.Generator``). With an int seed (or
None: one seed drawn from minitorch_cv's CPU generator at construction, so
``manual_seed`` fixes it) the draws of epoch e come from ``derive(seed, e, SHUFFLE)``
(seeding.py): every epoch has its own order, and ``set_epoch(e)`` reproduces any of them
(a resumed run does). Each ``iter()`` uses the current epoch and advances it, so
consecutive iterations give new orders, as PyTorch's do. A NumPy generator is drawn from
directly (each ``iter()`` continues its stream; not resumable).
``DistributedSampler`` keeps PyTorch's rule instead: the order changes only when
``set_epoch`` is called, and it must be the same on every replica.

Our samplers compute an epoch's indices as one int64 array (``_epoch_indices``), which
the loader slices into batches without a Python loop over samples.
"""
import math
import numbers

import numpy as np

from . import seeding


def _positive_int(value, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


class Sampler:
    """Base class: define ``__iter__`` (and ``__len__`` when known). Ours define
    ``_epoch_indices()`` instead and get ``__iter__`` from here."""

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def _epoch_indices(self):
        raise TypeError(f"{type(self).__name__} must define __iter__")


def sampler_indices(sampler):
    """One epoch of ``sampler`` as an int64 array (fast for ours, iterating otherwise)."""
    if isinstance(sampler, Sampler) and type(sampler).__iter__ is Sampler.__iter__:
        return sampler._epoch_indices()
    return np.fromiter((int(i) for i in sampler), dtype=np.int64)


class _EpochSeeded(Sampler):
    """A sampler whose draws follow the (seed, epoch) rule of the module docstring."""

    def __init__(self, generator):
        if isinstance(generator, np.random.Generator):
            self.seed, self._stream = None, generator
        else:
            self.seed, self._stream = seeding.base_seed(generator), None
        self.epoch = 0

    def set_epoch(self, epoch):
        """Make the next ``iter()`` draw the order of ``epoch``."""
        if not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"epoch: expected a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)

    def _generator(self):
        if self._stream is not None:
            return self._stream
        return seeding.derive(self.seed, self.epoch, seeding.SHUFFLE)

    def _epoch_indices(self):
        indices = self._draw(self._generator())
        self.epoch += 1
        return indices


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _epoch_indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(_EpochSeeded):
    """A random permutation of the data set each epoch. With ``replacement=True``,
    ``num_samples`` independent uniform draws; without, ``num_samples`` (default
    len(data_source)) indices from as many permutations as needed, as PyTorch."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement: expected a bool, got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = None if num_samples is None else _positive_int(num_samples, "num_samples")
        super().__init__(generator)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _draw(self, generator):
        n, wanted = len(self.data_source), self.num_samples
        if self.replacement:
            return generator.integers(0, n, size=wanted, dtype=np.int64)
        permutations = [generator.permutation(n) for _ in range(math.ceil(wanted / n))] if n else []
        indices = np.concatenate(permutations) if permutations else np.zeros(0, np.int64)
        return indices[:wanted].astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(_EpochSeeded):
    """The given ``indices`` in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        super().__init__(generator)

    def _draw(self, generator):
        return self.indices[generator.permutation(len(self.indices))]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(_EpochSeeded):
    """``num_samples`` indices, index i drawn with probability weights[i] / sum(weights);
    with ``replacement=False`` an index is drawn at most once (successive draws
    without replacement, as ``torch.multinomial``)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        weights = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights,
                             dtype=np.float64)
        if weights.ndim != 1 or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                "weights: expected a 1-D sequence of finite non-negative numbers, "
                f"got shape {weights.shape}"
            )
        if not weights.sum() > 0:
            raise ValueError("weights: expected at least one positive weight")
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement: expected a bool, got {replacement!r}")
        self.num_samples = _positive_int(num_samples, "num_samples")
        if not replacement and self.num_samples > np.count_nonzero(weights):
            raise ValueError(
                f"num_samples: without replacement at most the {np.count_nonzero(weights)} "
                f"indices of positive weight can be drawn, got {self.num_samples}"
            )
        self.weights = weights
        self.replacement = replacement
        super().__init__(generator)

    def _draw(self, generator):
        p = self.weights / self.weights.sum()
        return generator.choice(
            len(p), size=self.num_samples, replace=self.replacement, p=p
        ).astype(np.int64)

    def __len__(self):
        return self.num_samples


class DistributedSampler(Sampler):
    """Replica ``rank``'s share of the data set: every ``num_replicas``-th index of one
    order shared by all replicas, padded (by repeating the first indices) to a multiple
    of ``num_replicas``, or trimmed with ``drop_last=True``. Each replica gets
    ``num_samples`` indices; with ``shuffle`` the shared order is a permutation drawn
    from (``seed``, epoch). Call ``set_epoch(epoch)`` every epoch on every replica.

    This framework has no process-group package: ``num_replicas`` and ``rank`` default
    to 1 and 0 (one process) instead of being read from it.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        num_replicas = 1 if num_replicas is None else _positive_int(num_replicas, "num_replicas")
        rank = 0 if rank is None else rank
        if not isinstance(rank, numbers.Integral) or not 0 <= rank < num_replicas:
            raise ValueError(
                f"rank: expected an integer in [0, {num_replicas - 1}], got {rank!r}"
            )
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), seeding.base_seed(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        if not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"epoch: expected a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)

    def _epoch_indices(self):
        n = len(self.dataset)
        if self.shuffle:
            order = seeding.derive(self.seed, self.epoch, seeding.SHUFFLE).permutation(n)
        else:
            order = np.arange(n, dtype=np.int64)
        if self.total_size > n and n:  # pad by repeating the order from its start
            order = np.resize(order, self.total_size)
        order = order[: self.total_size]
        return order[self.rank : self.total_size : self.num_replicas].astype(np.int64)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the last one shorter, or
    dropped with ``drop_last=True``."""

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size")
        if not isinstance(drop_last, bool):
            raise TypeError(f"drop_last: expected a bool, got {drop_last!r}")
        self.drop_last = drop_last

    def epoch_batches(self):
        """One epoch's batches as int64 arrays (what the loader uses)."""
        indices = sampler_indices(self.sampler)
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        return [indices[k : k + self.batch_size] for k in range(0, stop, self.batch_size)]

    def __iter__(self):
        return (batch.tolist() for batch in self.epoch_batches())

    def __len__(self):
        full, rest = divmod(len(self.sampler), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)


def batch_plan(batch_sampler):
    """One epoch of any batch sampler as a list of int64 index arrays."""
    if type(batch_sampler) is BatchSampler:
        return batch_sampler.epoch_batches()
    return [np.asarray([int(i) for i in batch], dtype=np.int64) for batch in batch_sampler]
