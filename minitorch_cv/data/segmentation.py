"""``SegmentationDataset``: images and their label maps, all in memory, with joint
transforms; and the file handling CamVid and ISBI 2012 share.

A segmentation sample is an image and a label map of the same height and width, plus
optionally more per-pixel maps (the U-Net loss weights of ISBI 2012):

    images   uint8 (N, C, H, W)   channel-first, as the network's input
    masks    uint8 (N, H, W)      class ids 0..K-1, and ``ignore_index`` where unlabelled
    maps     float32 (N, H, W)    optional, e.g. per-pixel loss weights

``dataset[i]`` is ``(image uint8 (C, H, W), mask int64 (H, W)[, map])``. ``transforms``
(see ``joint_transforms.py``) takes and returns the whole sample, so that a crop or a
flip moves the image and its labels together. The loader's fast path ``get_batch``
applies it sample by sample with the batch's generator (the geometry of each image is
drawn separately, and a random scale changes sizes, so a batch cannot be transformed as
one array), then stacks: every transformed sample of a batch must have the same size,
which a crop or a resize to a fixed size guarantees.
"""
import glob
import os

import numpy as np

from .dataset import Dataset
from .errors import DatasetCorruptError, DatasetNotFoundError, not_found_message
from .joint_transforms import apply_joint

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


class SegmentationDataset(Dataset):
    """Samples ``(image, mask[, map])`` from arrays; see the module docstring.

    classes: the names of the K classes; ignore_index: the id of unlabelled pixels (not
    a class; None when every pixel is labelled); palette: an RGB colour per class id
    (ignore_index included, when it is K), for drawing label maps.
    """

    def __init__(self, images, masks, classes, ignore_index=None, transforms=None, maps=None,
                 palette=None):
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(f"images: expected uint8 (N, C, H, W), got {images.dtype} "
                             f"{images.shape}")
        expected = (images.shape[0],) + images.shape[2:]
        for name, array in (("masks", masks), ("maps", maps)):
            if array is not None and array.shape != expected:
                raise ValueError(f"{name}: expected shape {expected} (N, H, W), got {array.shape}")
        if transforms is not None and not callable(transforms):
            raise TypeError(f"transforms: expected a callable, got {type(transforms).__name__}")
        self.images = images
        self.masks = masks
        self.maps = maps
        self.classes = list(classes)
        self.ignore_index = ignore_index
        self.transforms = transforms
        self.palette = None if palette is None else np.asarray(palette, dtype=np.uint8)

    @property
    def num_classes(self):
        return len(self.classes)

    def __len__(self):
        return self.images.shape[0]

    def _sample(self, index, generator):
        sample = (self.images[index], self.masks[index].astype(np.int64))
        if self.maps is not None:
            sample += (self.maps[index],)
        if self.transforms is not None:
            sample = tuple(apply_joint(self.transforms, sample, generator))
        return sample

    def __getitem__(self, index):
        """(image, mask[, map]) of sample ``index``, transformed (drawing from
        minitorch_cv's CPU generator, as any transform called without a generator)."""
        return self._sample(int(index), None)

    def get_batch(self, indices, generator=None):
        """[images, masks int64[, maps]] of ``indices``, each sample transformed with
        draws from ``generator``, then stacked."""
        samples = [self._sample(int(i), generator) for i in np.asarray(indices).reshape(-1)]
        fields = []
        for position in range(len(samples[0])):
            shapes = {sample[position].shape for sample in samples}
            if len(shapes) > 1:
                raise ValueError(
                    f"transforms: the samples of a batch must have one size, got "
                    f"{sorted(shapes)}; end the transforms with a crop or a resize to a "
                    "fixed size (or use batch_size=1)"
                )
            fields.append(np.stack([sample[position] for sample in samples]))
        return fields

    def __repr__(self):
        head = (f"{type(self).__name__}: {len(self)} images of shape "
                f"{tuple(self.images.shape[1:])}, {self.num_classes} classes")
        split = getattr(self, "split", None)
        if split is not None:
            head += f", {split} split"
        source = getattr(self, "source", None)
        if source:
            head += f"\n    source: {source}"
        if self.transforms is not None:
            head += f"\n    transforms: {self.transforms!r}"
        return head


def colorize(mask, palette):
    """uint8 RGB (H, W, 3) (or (N, H, W, 3)) of a label map: ``palette[mask]``. Ids
    beyond the palette (other than the listed ones) are drawn black."""
    mask = np.asarray(mask)
    palette = np.asarray(palette, dtype=np.uint8)
    safe = np.where((mask >= 0) & (mask < len(palette)), mask, len(palette))
    return np.concatenate([palette, np.zeros((1, 3), np.uint8)])[safe]


# --------------------------------------------------------------- files and archives
def locate(root, folder_markers, archive_pattern, layouts, name):
    """Where a data set is: ("archive", path) or ("folder", path).

    root: an archive (.tar.gz/.tgz/.tar), a folder holding the files (it contains one
    of ``folder_markers``, relative paths), a folder holding such a folder or an
    archive matching ``archive_pattern`` (a glob). A missing root or layout raises
    ``DatasetNotFoundError`` that lists ``layouts``.
    """
    if os.path.isfile(root):
        if root.endswith(ARCHIVE_SUFFIXES):
            return "archive", root
        raise DatasetNotFoundError(
            f"root: {root} is a file but not a .tar.gz/.tgz/.tar archive; expected a folder "
            f"or the {name} archive"
        )
    if os.path.isdir(root):
        if any(os.path.exists(os.path.join(root, marker)) for marker in folder_markers):
            return "folder", root
        for child in sorted(os.listdir(root)):
            folder = os.path.join(root, child)
            if os.path.isdir(folder) and any(
                os.path.exists(os.path.join(folder, marker)) for marker in folder_markers
            ):
                return "folder", folder
        for suffix in ARCHIVE_SUFFIXES:
            archives = sorted(glob.glob(os.path.join(glob.escape(root), archive_pattern + suffix)))
            if archives:
                return "archive", archives[0]
    raise DatasetNotFoundError(not_found_message(name, [root], layouts, ""))


def read_folder_file(folder, relative, max_bytes):
    """The bytes of ``folder/relative``: a regular file of at most ``max_bytes``."""
    path = os.path.join(folder, relative)
    if not os.path.isfile(path):
        raise DatasetNotFoundError(f"{path}: missing (the data set's folder is incomplete)")
    size = os.path.getsize(path)
    if size > max_bytes:
        raise DatasetCorruptError(f"{path}: {size} bytes, more than the {max_bytes} expected")
    with open(path, "rb") as handle:
        return handle.read()


def stack_pairs(pairs, decode_image, decode_mask):
    """(images uint8 (N, C, H, W), masks uint8 (N, H, W)) from [(image bytes, mask bytes,
    name)]: every image must have the size of the first one."""
    images, masks, size = [], [], None
    for image_bytes, mask_bytes, name in pairs:
        image = decode_image(image_bytes, name, size)
        size = image.shape[:2]
        images.append(image.reshape(size + (-1,)).transpose(2, 0, 1))
        masks.append(decode_mask(mask_bytes, name, size))
    return np.ascontiguousarray(np.stack(images)), np.stack(masks)


def check_mask_values(masks, num_classes, ignore_index, source):
    """Every id is a class or the ignore id: a label map is never out of range."""
    valid = np.zeros(256, dtype=bool)
    valid[:num_classes] = True
    if ignore_index is not None:
        valid[ignore_index] = True
    found = np.unique(masks)
    bad = found[~valid[found]]
    if bad.size:
        allowed = f"0..{num_classes - 1}" + (f" or {ignore_index}" if ignore_index is not None else "")
        raise DatasetCorruptError(f"{source}: label ids {bad.tolist()} found; expected {allowed}")
