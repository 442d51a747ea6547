"""The ISBI 2012 EM segmentation challenge: the U-Net paper's own data.

30 consecutive 512x512 sections of a serial-section transmission electron microscopy
volume of the Drosophila first instar larva ventral nerve cord (Cardona et al. 2010),
with their membrane labels. The challenge keeps its test labels, so the 30 labelled
training slices are split here: ``split="val"`` is the last ``val_count`` slices
(25-29 by default), ``split="train"`` the others. Neighbouring sections look alike, so a
contiguous block is held out rather than every k-th slice, which would put a near copy
of each validation slice in the training set.

Layout (``../shared/data/isbi2012-em.tar.gz``):

    isbi2012-em/train/image/{0..29}.png   uint8 gray
    isbi2012-em/train/label/{0..29}.png   uint8: 255 = cell interior, 0 = membrane

Class ids: 0 membrane, 1 cell (label // 255; no other value is accepted). Every pixel
is labelled (``ignore_index`` is None). ``root`` may be the archive (read without
extracting), the ``isbi2012-em`` folder, a folder holding it, or a folder holding an
``isbi2012*.tar.gz``; None means ``$MINITORCH_CV_DATA``, else the download cache.

``weight_maps=True`` adds the U-Net paper's per-pixel loss weights (``weight_maps.py``,
w0 = 10, sigma = 5) as a third field of every sample, computed once here from the
label maps (a fraction of a second per slice) and then deformed with them by the joint
transforms. Reading is bounded as CamVid's (see ``camvid.py``).
"""
import os

import numpy as np

from .download import read_tar_members, verify_known_file
from .errors import DatasetCorruptError, default_root
from .png import decode_png
from .segmentation import SegmentationDataset, locate, read_folder_file, stack_pairs
from .weight_maps import unet_weight_map

CLASSES = ("membrane", "cell")
SLICES = 30
SIZE = (512, 512)
# Mean and std of the 30 slices' pixels in [0, 1] (for Normalize).
ISBI2012_MEAN = (0.4948,)
ISBI2012_STD = (0.1726,)

KNOWN_FILES = {
    "isbi2012-em.tar.gz": [
        (6498498, "sha256", "59ef7fe9de0235f53fee7ac464a504966d357262f35a302b9bf7e91c9fc3ee6d")
    ],
}
MAX_ARCHIVE_BYTES = 256 << 20  # the 60 PNG files take about 12 MB
MAX_FILE_BYTES = 4 << 20       # a 512x512 gray PNG holds at most 0.26 MB of pixels

_LAYOUTS = (
    "<root>/isbi2012-em/train/{image,label}/{0..29}.png",
    "<root>/isbi2012*.tar.gz holding that folder (e.g. isbi2012-em.tar.gz)",
    "or pass the isbi2012-em folder or the archive itself as root",
)


def _relative_paths():
    return [(f"train/image/{i}.png", f"train/label/{i}.png") for i in range(SLICES)]


def _read_archive(path, verify):
    """{path relative to the isbi2012-em folder: bytes} of the 60 PNG files."""
    if verify:
        verify_known_file(path, KNOWN_FILES)
    suffixes = {relative for pair in _relative_paths() for relative in pair}

    def relative(member):
        parts = member.split("/")
        return "/".join(parts[-3:]) if len(parts) >= 3 else None

    members = read_tar_members(path, lambda member: relative(member) in suffixes,
                               MAX_FILE_BYTES, MAX_ARCHIVE_BYTES, by_path=True)
    files = {}
    for member, payload in members.items():
        key = relative(member)
        if key in files:
            raise DatasetCorruptError(f"{path}: two members end in {key}; expected one copy")
        files[key] = payload
    return files


def _decode_image(payload, name, size):
    return decode_png(payload, name, modes=("L",), size=SIZE)


def _decode_mask(payload, name, size):
    mask = decode_png(payload, name, modes=("L",), size=SIZE)
    bad = np.unique(mask[(mask != 0) & (mask != 255)])
    if bad.size:
        raise DatasetCorruptError(f"{name}: label values {bad[:5].tolist()}; expected 0 or 255")
    return mask // 255


class ISBI2012(SegmentationDataset):
    """ISBI 2012 EM slices: ``images`` uint8 (N, 1, 512, 512), ``masks`` uint8 (N, 512,
    512) of 0 (membrane) / 1 (cell), ``slices`` (their numbers 0..29), optional ``maps``
    (U-Net weights); samples as ``SegmentationDataset``."""

    def __init__(self, root=None, split="train", val_count=5, transforms=None,
                 weight_maps=False, verify=True):
        if split not in ("train", "val"):
            raise ValueError(f"split: expected 'train' or 'val', got {split!r}")
        lowest = 1 if split == "val" else 0  # val_count=0: all 30 slices are for training
        if not isinstance(val_count, int) or not lowest <= val_count < SLICES:
            raise ValueError(f"val_count: expected an int in [{lowest}, {SLICES - 1}] for the "
                             f"{split} split, got {val_count!r}")
        root = default_root(root)
        kind, path = locate(root, ["train/image", "isbi2012-em"], "isbi2012*", _LAYOUTS,
                            "ISBI 2012")
        if kind == "folder" and os.path.isdir(os.path.join(path, "isbi2012-em")):
            path = os.path.join(path, "isbi2012-em")
        self.split = split
        self.source = path
        first = SLICES - val_count
        self.slices = list(range(first)) if split == "train" else list(range(first, SLICES))
        wanted = [_relative_paths()[i] for i in self.slices]
        if kind == "archive":
            files = _read_archive(path, verify)
            missing = [p for pair in wanted for p in pair if p not in files]
            if missing:
                raise DatasetCorruptError(
                    f"{path}: the archive is incomplete: it has no isbi2012-em/{missing[0]} "
                    f"({len(missing)} of the {2 * len(wanted)} files of this split missing)"
                )
        else:
            files = {p: read_folder_file(path, p, MAX_FILE_BYTES) for pair in wanted for p in pair}
        pairs = [(files[image], files[mask], f"{path}:{image}") for image, mask in wanted]
        images, masks = stack_pairs(pairs, _decode_image, _decode_mask)
        maps = None
        if weight_maps:
            maps = np.stack([unet_weight_map(mask, foreground=1) for mask in masks])
        super().__init__(images, masks, CLASSES, None, transforms, maps=maps,
                         palette=((0, 0, 0), (255, 255, 255)))
