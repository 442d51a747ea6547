"""``ImageArrayDataset``: all images of a data set in one uint8 array (N, C, H, W).

The small vision data sets (CIFAR-10: 50,000 x 3 x 32 x 32 = 150 MB, MNIST: 47 MB) fit
in memory, so the loaders decode the files once into

    data     uint8 (N, C, H, W)   channel-first, like the network's input. torchvision
                                  keeps CIFAR as (N, H, W, C) and MNIST as (N, H, W);
                                  ``data.transpose(0, 2, 3, 1)`` gives the former
    targets  int64 (N,)           class indices

and a batch is one fancy index ``data[indices]`` (``get_batch``, the loader's fast path).

``transform`` is applied per sample in ``__getitem__`` (PyTorch's convention). When it
is batched (our transforms and their ``Compose``, see transforms.py), ``get_batch``
applies it to the whole batch at once with the loader's generator; any other callable
is applied image by image, with the same generator. With ``ToTensor`` in the transform,
samples and batches are Tensors, as torchvision's.
"""
import numpy as np

from .dataset import Dataset, collate
from .transforms import apply_transform


class ImageArrayDataset(Dataset):
    def __init__(self, data, targets, classes, transform=None):
        if data.dtype != np.uint8 or data.ndim != 4:
            raise ValueError(f"data: expected uint8 (N, C, H, W), got {data.dtype} {data.shape}")
        if targets.shape != (data.shape[0],):
            raise ValueError(
                f"targets: expected shape ({data.shape[0]},), got {targets.shape}"
            )
        if transform is not None and not callable(transform):
            raise TypeError(f"transform: expected a callable, got {type(transform).__name__}")
        self.data = data
        self.targets = targets.astype(np.int64, copy=False)
        self.classes = list(classes)
        self.transform = transform

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    @property
    def arrays(self):
        """(data, targets): the raw arrays, for code that wants them whole."""
        return self.data, self.targets

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        """(image, label): uint8 (C, H, W) (or the transform's output) and an int."""
        image = self.data[index]
        if self.transform is not None:
            image = apply_transform(self.transform, image)
        return image, int(self.targets[index])

    def get_batch(self, indices, generator=None):
        """[images (B, C, H, W), labels int64 (B,)] for ``indices``, one gather each."""
        indices = np.asarray(indices, dtype=np.int64)
        images = np.take(self.data, indices, axis=0)
        labels = np.take(self.targets, indices, axis=0)
        if getattr(self.transform, "batched", False):
            images = self.transform(images, generator=generator)
        elif self.transform is not None:
            images = collate([apply_transform(self.transform, image, generator) for image in images])
        return [images, labels]

    def __repr__(self):
        head = f"{type(self).__name__}: {len(self)} images of shape {tuple(self.data.shape[1:])}"
        split = getattr(self, "train", None)
        if split is not None:
            head += f", {'train' if split else 'test'} split"
        source = getattr(self, "source", None)
        if source:
            head += f"\n    source: {source}"
        if self.transform is not None:
            head += f"\n    transform: {self.transform!r}"
        return head
