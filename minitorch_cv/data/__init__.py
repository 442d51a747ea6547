"""minitorch_cv.data: data sets, the DataLoader and batch transforms.

    from minitorch_cv import data
    from minitorch_cv.data import transforms as T

    train = data.CIFAR10("../shared/data/cifar-10-subset-python.tar.gz", train=True)
    augment = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                         T.Normalize(data.CIFAR10_MEAN, data.CIFAR10_STD)])
    loader = data.DataLoader(train, batch_size=128, shuffle=True, generator=0,
                             transform=augment)
    for images, labels in loader:   # float32 (128, 3, 32, 32), int64 (128,)
        ...

``minitorch_cv.utils.data`` is PyTorch's import path for the loading part of this
package (DataLoader, data set classes, samplers, collate functions, get_worker_info).

Files: dataset.py (Dataset, TensorDataset, Subset, ConcatDataset, random_split, the batch
fast path), loader.py (DataLoader), sampler.py (the samplers), fetch.py (building one
batch, the same in every thread and process), worker.py and worker_pool.py (worker
processes), prefetch.py (the background thread), seeding.py (how shuffling and
augmentation are made reproducible and resumable), transforms.py (+ transforms_*.py:
torchvision's vocabulary), vision.py (the
array-backed image data set), cifar.py, mnist.py + idx.py (the IDX format),
safe_pickle.py (unpickling without code execution), download.py (downloads, progress
bar, checksums, reading tar archives), errors.py. Segmentation: segmentation.py (the
data set of images and label maps), camvid.py, isbi2012.py, png.py (bounded PNG
decoding with Pillow), joint_transforms.py (one geometry for an image and its labels),
weight_maps.py (the U-Net loss weights).
"""
from . import joint_transforms, transforms
from .camvid import CAMVID_MEAN, CAMVID_STD, CamVid
from .cifar import CIFAR10, CIFAR10_MEAN, CIFAR10_STD
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, collate, random_split
from .errors import DatasetCorruptError, DatasetNotFoundError
from .fetch import default_collate, default_convert
from .isbi2012 import ISBI2012, ISBI2012_MEAN, ISBI2012_STD
from .loader import DataLoader
from .mnist import MNIST, FashionMNIST
from .sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .segmentation import SegmentationDataset
from .worker import WorkerInfo, get_worker_info

# Common statistics of the gray data sets (pixel values in [0, 1]).
MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
FASHION_MNIST_MEAN, FASHION_MNIST_STD = (0.2860,), (0.3530,)

__all__ = [
    "BatchSampler",
    "CAMVID_MEAN",
    "CAMVID_STD",
    "CIFAR10",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CamVid",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DatasetCorruptError",
    "DatasetNotFoundError",
    "DistributedSampler",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "FashionMNIST",
    "ISBI2012",
    "ISBI2012_MEAN",
    "ISBI2012_STD",
    "MNIST",
    "MNIST_MEAN",
    "MNIST_STD",
    "RandomSampler",
    "Sampler",
    "SegmentationDataset",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "collate",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "joint_transforms",
    "random_split",
    "transforms",
]
