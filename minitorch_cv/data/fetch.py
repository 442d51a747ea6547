"""Building one batch from its sample indices: the same code in the loader's thread and
in every worker process, so that both give identical batches.

``BatchFetcher.fetch(epoch, k, indices)`` builds batch k of ``epoch``:

  1. a NumPy generator is derived from (seed, epoch, k) (seeding.py) and installed as
     this thread's minitorch_cv CPU generator for the duration (``random.use_cpu_generator``);
  2. the samples are fetched: the data set's ``get_batch`` fast path when it has one and
     the default collate is used, else ``dataset[i]`` per index and ``collate_fn`` (or
     the default ``collate``);
  3. the loader's batch ``transform``, if any, is applied to the first field with the
     same generator.

Everything random in steps 2 and 3 that draws from that generator (our transforms,
``mt.rand`` in a data set, a data set's ``get_batch`` given the generator) therefore
depends on (seed, epoch, k) only: not on which thread or process builds the batch, nor
on what the training loop draws meanwhile. Python's ``random`` and NumPy's global
functions are not redirected; in worker processes they are seeded per worker as in
PyTorch (workers.py).

The fetcher is pickled to each worker process, so it holds only the data set, the
collate function and the transform; the seed comes with each batch's task.
"""
import numpy as np

from .. import random as _random
from ..tensor import Tensor
from . import seeding
from .dataset import collate, fetch_batch
from .transforms import apply_transform

# Set on an exception raised while fetching: which sample(s) were being loaded.
LOADING_ATTRIBUTE = "_minitorch_cv_loading"


def _mark(error, what):
    if not hasattr(error, LOADING_ATTRIBUTE):
        try:
            setattr(error, LOADING_ATTRIBUTE, what)
        except AttributeError:  # an exception type without __dict__
            pass


def loading_description(error, default):
    """What was being loaded when ``error`` was raised ("sample 13", ...)."""
    return getattr(error, LOADING_ATTRIBUTE, default)


class BatchFetcher:
    def __init__(self, dataset, collate_fn=None, transform=None, auto_collation=True):
        self.dataset = dataset
        self.collate_fn = collate_fn
        self.transform = transform
        self.auto_collation = auto_collation

    def fetch(self, seed, epoch, k, indices):
        """Batch ``k`` of ``epoch`` of the loader seeded ``seed`` (``indices``: an int64
        array, or one int without auto-collation). Default collate: a list (or dict) of
        NumPy arrays."""
        generator = seeding.derive(seed, epoch, seeding.AUGMENT, k)
        with _random.use_cpu_generator(generator):
            if not self.auto_collation:
                return self._sample(int(indices))
            fields = self._samples(indices, generator)
            if self.transform is not None:
                fields = self._transform(fields, generator)
        return fields

    def _sample(self, index):
        try:
            return self.dataset[index]
        except Exception as error:
            _mark(error, f"sample {index}")
            raise

    def _samples(self, indices, generator):
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            try:
                return fetch_batch(self.dataset, indices, generator)
            except Exception as error:
                _mark(error, f"samples {summarize_indices(indices)} (get_batch)")
                raise
        samples = [self._sample(int(i)) for i in indices]
        if self.collate_fn is not None:
            return self.collate_fn(samples)
        batch = collate(samples)
        return batch if isinstance(batch, (list, dict)) else [batch]

    def _transform(self, fields, generator):
        if not isinstance(fields, list):
            raise TypeError(
                "transform: the loader's transform applies to the first field of "
                f"list/tuple samples; this data set gives {type(fields).__name__}"
            )
        fields = list(fields)
        fields[0] = apply_transform(self.transform, fields[0], generator)
        return fields


def summarize_indices(indices, shown=8):
    values = [int(i) for i in np.asarray(indices).reshape(-1)]
    if len(values) <= shown:
        return str(values)
    return f"[{', '.join(map(str, values[:shown]))}, ... ({len(values)} in all)]"


def default_convert(value):
    """NumPy arrays (and numbers in containers) to Tensors, containers kept: what the
    loader hands out for each batch of the default collate (PyTorch's
    ``default_convert``)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, dict):
        return {key: default_convert(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [default_convert(item) for item in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor(np.asarray(value))
    return value


def default_collate(samples):
    """PyTorch's ``default_collate``: stack samples field by field into Tensors (for
    a custom ``collate_fn`` that post-processes the default)."""
    return default_convert(collate(samples))
