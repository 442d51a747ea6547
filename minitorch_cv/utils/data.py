"""``minitorch_cv.utils.data``: PyTorch's ``torch.utils.data`` import path.

    from minitorch_cv.utils.data import DataLoader, Dataset, TensorDataset, random_split

The same objects as ``minitorch_cv.data`` (which also holds the data sets and
transforms): data set classes, the DataLoader, the samplers, the collate functions and
the worker API.
"""
from ..data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from ..data.fetch import default_collate, default_convert
from ..data.loader import DataLoader
from ..data.sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ..data.worker import WorkerInfo, get_worker_info

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
