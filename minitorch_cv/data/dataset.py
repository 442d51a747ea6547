"""Data sets: PyTorch's protocol, plus an optional fast path for whole batches.

A data set is anything with ``__len__`` and ``__getitem__(i)`` returning one sample (a
tuple such as ``(image, label)``). ``DataLoader`` builds a batch from that by indexing
each sample and stacking the fields (``collate``), which costs a Python call per sample.

The fast path: a data set that keeps its samples in arrays may also define

    get_batch(indices, generator=None) -> [field_0, field_1, ...]

returning every field of the chosen samples already stacked along a new first axis
(typically one fancy index ``images[indices]``: no Python loop over samples).
``generator`` is the NumPy generator the data set's own random transforms must draw
from. ``fetch_batch`` uses ``get_batch`` when it exists and falls back to the
per-sample path otherwise; ``Subset`` passes the fast path through.
"""
import bisect
import numbers

import numpy as np

from ..tensor import Tensor
from .seeding import numpy_generator


class Dataset:
    """Base class of data sets (PyTorch's ``torch.utils.data.Dataset``)."""

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self):
        raise TypeError(f"{type(self).__name__} must define __len__()")


def _as_array(value):
    return value.array if isinstance(value, Tensor) else value


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long tensors: ``(t0[i], t1[i], ...)``.

    Accepts minitorch_cv Tensors or NumPy arrays; samples are returned as Tensors, as in
    PyTorch.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        tensors = [t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors]
        shapes = [t.shape for t in tensors]
        if any(len(shape) == 0 for shape in shapes) or len({s[0] for s in shapes}) != 1:
            raise ValueError(
                f"tensors: expected tensors with the same size in the first dimension, "
                f"got shapes {shapes}"
            )
        self.tensors = tuple(tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(Tensor._wrap(t.array[index]) for t in self.tensors)

    def get_batch(self, indices, generator=None):
        return [t.array[indices] for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if self.indices.size and (
            self.indices.min() < -len(dataset) or self.indices.max() >= len(dataset)
        ):
            raise IndexError(
                f"indices: expected indices in [0, {len(dataset)}), got values from "
                f"{self.indices.min()} to {self.indices.max()}"
            )

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices, generator=None):
        return fetch_batch(self.dataset, self.indices[np.asarray(indices)], generator)


class ConcatDataset(Dataset):
    """The samples of ``datasets`` one after the other (PyTorch's ``ConcatDataset``)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets: expected at least one data set")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index: expected a value in [-{len(self)}, {len(self)}), got {index}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        offset = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - offset]


def collate(samples):
    """Stack a list of samples into a batch, field by field (PyTorch's default_collate).

    Arrays and Tensors are stacked on a new first axis; Python ints become int64, Python
    floats float64 (as PyTorch does), bools bool; tuples/lists are collated per position
    (a list comes back), dicts per key.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in samples):
            raise ValueError("collate: every sample must have the same number of fields")
        return [collate([sample[i] for sample in samples]) for i in range(len(first))]
    if isinstance(first, dict):
        return {key: collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        return np.stack([np.asarray(_as_array(sample)) for sample in samples])
    if isinstance(first, bool):
        return np.array(samples, dtype=np.bool_)
    if isinstance(first, numbers.Integral):
        return np.array(samples, dtype=np.int64)
    if isinstance(first, numbers.Real):
        return np.array(samples, dtype=np.float64)
    raise TypeError(
        f"collate: cannot batch samples of type {type(first).__name__}; "
        "return arrays, Tensors, numbers, or tuples/dicts of them"
    )


def fetch_batch(dataset, indices, generator=None):
    """The samples at ``indices`` as one batch: the fast path when the data set has one."""
    get_batch = getattr(dataset, "get_batch", None)
    if get_batch is not None:
        return get_batch(indices, generator)
    batch = collate([dataset[int(i)] for i in indices])
    return batch if isinstance(batch, (list, dict)) else [batch]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    lengths: integers summing to ``len(dataset)``, or fractions summing to 1 (the
    remainder of the rounding goes to the first subsets one by one, as in PyTorch).
    generator: None (minitorch_cv's CPU generator, so ``manual_seed`` fixes the split),
    a seed, or a NumPy generator.
    """
    total = len(dataset)
    lengths = list(lengths)
    fractions = bool(lengths) and all(isinstance(x, float) and 0 <= x <= 1 for x in lengths)
    if fractions and abs(sum(lengths) - 1) < 1e-6:
        counts = [int(np.floor(total * fraction)) for fraction in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    valid = all(isinstance(x, numbers.Integral) and x >= 0 for x in lengths)
    if not valid or sum(lengths) != total:
        raise ValueError(
            f"lengths: expected non-negative integers summing to len(dataset)={total} "
            f"or fractions summing to 1, got {lengths}"
        )
    order = numpy_generator(generator).permutation(total)
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start : start + length]))
        start += length
    return subsets
