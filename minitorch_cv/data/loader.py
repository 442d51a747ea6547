"""``DataLoader``: batches of a data set, shuffled reproducibly, prepared in the background.

    loader = DataLoader(train_set, batch_size=128, shuffle=True, generator=seed,
                        transform=Compose([RandomCrop(32, padding=4),
                                           RandomHorizontalFlip(),
                                           Normalize(CIFAR10_MEAN, CIFAR10_STD)]))
    for epoch in range(start_epoch, epochs):
        loader.set_epoch(epoch)               # optional: iter() advances it by itself
        for images, labels in loader:         # Tensors: float32 (N, C, H, W), int64 (N,)
            ...

Each batch is a list of Tensors, one per field of the samples (for the image data sets:
images, then labels). Images stay uint8 unless a transform makes them float32.

How a batch is built. The sample order of epoch e is a permutation drawn from
``derive(seed, e, SHUFFLE)`` (or 0..N-1 without shuffle); batch k takes positions
[k * batch_size, (k + 1) * batch_size). Its samples are fetched with the data set's
``get_batch`` fast path when it has one (one fancy index for the array-backed image
sets), else one ``dataset[i]`` per sample and ``collate``. ``transform`` (a batch
transform) is then applied to the first field, the images, drawing from
``derive(seed, e, AUGMENT, k)``. With ``prefetch=True`` a background thread builds the
next two batches while the caller trains on this one (see ``prefetch.py``); since every
batch has its own generator, the batches are identical with and without prefetch.

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
with the next batch. Nothing else needs saving: the draws of batch k depend on (seed,
epoch, k) only.

Differences from PyTorch: no ``num_workers`` (one background thread instead, enough for
array-backed sets), no ``sampler``/``collate_fn``; ``transform``, ``device``,
``set_epoch`` and ``state_dict`` are additions. Per-sample transforms given to a data
set that has no ``get_batch`` draw from the global generator and are then not
reproducible under prefetch; prefer the loader's ``transform``.
"""
import numbers

import numpy as np

from .. import devices as _device
from ..tensor import Tensor
from . import seeding
from .dataset import fetch_batch
from .prefetch import BackgroundIterator
from .transforms import apply_transform

PREFETCH_DEPTH = 2


class DataLoader:
    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=False,
        drop_last=False,
        generator=None,
        transform=None,
        prefetch=True,
        device="cpu",
    ):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"dataset: expected an object with __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        if (
            not isinstance(batch_size, numbers.Integral)
            or isinstance(batch_size, bool)
            or batch_size <= 0
        ):
            raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform: expected a callable, got {type(transform).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.transform = transform
        self.prefetch = bool(prefetch)
        self.device = _device.normalize(device)
        self.seed = seeding.base_seed(generator)
        self.epoch = 0
        self._start_batch = 0
        # (epoch, batches handed out) of the epoch started last, while it is unfinished;
        # only the newest iterator (ticket == self._iterations) reports into it.
        self._in_progress = None
        self._iterations = 0

    def __len__(self):
        """Batches per epoch: ceil(N / batch_size), or floor with drop_last (PyTorch)."""
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

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
        self.set_epoch(int(state["epoch"]))
        self._start_batch = batch

    def order(self, epoch):
        """The sample indices of ``epoch`` in the order they are served (int64, (N,))."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        return seeding.derive(self.seed, epoch, seeding.SHUFFLE).permutation(n)

    # ---------------------------------------------------------------- building batches
    def _batches(self, epoch, start):
        """Yield (as NumPy arrays) the batches of ``epoch`` from batch ``start`` on."""
        order = self.order(epoch)
        for k in range(start, len(self)):
            indices = order[k * self.batch_size : (k + 1) * self.batch_size]
            generator = seeding.derive(self.seed, epoch, seeding.AUGMENT, k)
            fields = fetch_batch(self.dataset, indices, generator)
            if self.transform is not None:
                if not isinstance(fields, list):
                    raise TypeError(
                        "transform: the loader's transform applies to the first field of "
                        f"list/tuple samples; this data set gives {type(fields).__name__}"
                    )
                fields = list(fields)
                fields[0] = apply_transform(self.transform, fields[0], generator)
            yield fields

    def _to_tensors(self, fields):
        if isinstance(fields, dict):
            return {key: self._to_tensors(value) for key, value in fields.items()}
        if isinstance(fields, (list, tuple)):
            return [self._to_tensors(value) for value in fields]
        if isinstance(fields, Tensor):
            fields = fields.array
        return Tensor(_device.to_device(fields, self.device))

    def __iter__(self):
        epoch, start = self.epoch, self._start_batch
        self.epoch, self._start_batch = epoch + 1, 0
        batches = self._batches(epoch, start)
        if self.prefetch:
            batches = BackgroundIterator(batches, depth=PREFETCH_DEPTH)
        self._iterations += 1
        self._in_progress = (epoch, start)
        return _EpochIterator(self, self._iterations, epoch, start, batches)

    def _report(self, ticket, position):
        """Called by the iterator ``ticket`` after each batch; None once the epoch is done."""
        if ticket == self._iterations:
            self._in_progress = position

    def __repr__(self):
        return (
            f"DataLoader(dataset={type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed}, epoch={self.epoch}, "
            f"prefetch={self.prefetch}, device={self.device!r})"
        )


class _EpochIterator:
    """One pass over the loader; reports the batches it hands out (for ``state_dict``)."""

    def __init__(self, loader, ticket, epoch, start, batches):
        self.loader = loader
        self.ticket = ticket
        self.epoch = epoch
        self.position = start
        self.finished = False
        self._batches = batches

    def __iter__(self):
        return self

    def __len__(self):
        return len(self.loader) - self.position

    def __next__(self):
        if self.finished:
            raise StopIteration
        try:
            fields = next(self._batches)
        except StopIteration:
            self.finished = True
            self.loader._report(self.ticket, None)
            raise
        except BaseException:  # the position stays: a resumed run retries this batch
            self.finished = True
            raise
        self.position += 1
        done = self.position >= len(self.loader)
        self.loader._report(self.ticket, None if done else (self.epoch, self.position))
        return self.loader._to_tensors(fields)

    def close(self):
        """Stop early; the background thread (if any) exits."""
        self.finished = True
        if isinstance(self._batches, BackgroundIterator):
            self._batches.close()
