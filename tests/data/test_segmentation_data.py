"""CamVid and ISBI 2012 on the real archives (../shared/data), their folder layouts, and
damaged, incomplete or hostile files."""
import io
import struct
import tarfile
import zlib

import numpy as np
import pytest
from PIL import Image

from minitorch_cv import data
from minitorch_cv.data import joint_transforms as JT
from minitorch_cv.data.download import read_tar_members
from minitorch_cv.data.png import decode_png

CAMVID = "camvid-subset.tar.gz"
ISBI = "isbi2012-em.tar.gz"
CAMVID_CLASSES = ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence",
                  "Car", "Pedestrian", "Bicyclist"]
# Observed on the subset; cross-checked against Pillow on the archive's own files in
# test_camvid_pixels_are_the_files_pixels. Pixels per id 0..11 of the 123 label maps.
CAMVID_TRAIN_PIXELS = [3595077, 4994893, 212933, 6718735, 949677, 2036169, 246424, 238186,
                       1239547, 145683, 55861, 821215]


def _archive(data_dir, name):
    path = data_dir / name
    if not path.is_file():
        pytest.skip(f"{name} is not in {data_dir}")
    return path


@pytest.fixture(scope="module")
def camvid_archive(data_dir):
    return _archive(data_dir, CAMVID)


@pytest.fixture(scope="module")
def isbi_archive(data_dir):
    return _archive(data_dir, ISBI)


@pytest.fixture(scope="module")
def camvid_train(camvid_archive):
    return data.CamVid(camvid_archive, split="train")


@pytest.fixture(scope="module")
def camvid_val(camvid_archive):
    return data.CamVid(camvid_archive.parent, split="val")  # the folder holding the archive


@pytest.fixture(scope="module")
def isbi_val(isbi_archive):
    return data.ISBI2012(isbi_archive, split="val", weight_maps=True)


def _members(archive, names):
    """{member path: bytes} read in one pass with plain tarfile (the files are trusted)."""
    found = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.name in names:
                found[member.name] = tar.extractfile(member).read()
                if len(found) == len(names):
                    break
    return found


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _tar(path, files):
    """A .tar.gz at ``path`` holding {member path: bytes}."""
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


# ------------------------------------------------------------------------- CamVid
def test_camvid_train_split(camvid_train):
    assert len(camvid_train) == 123
    assert camvid_train.images.shape == (123, 3, 360, 480)
    assert camvid_train.images.dtype == np.uint8 and camvid_train.masks.dtype == np.uint8
    assert camvid_train.masks.shape == (123, 360, 480)
    assert camvid_train.classes == CAMVID_CLASSES and camvid_train.num_classes == 11
    assert camvid_train.ignore_index == data.CamVid.ignore_index == 11
    assert camvid_train.palette.shape == (12, 3)
    assert np.bincount(camvid_train.masks.reshape(-1), minlength=12).tolist() == \
        CAMVID_TRAIN_PIXELS
    image, mask = camvid_train[5]
    assert image.shape == (3, 360, 480) and mask.shape == (360, 480) and mask.dtype == np.int64


def test_camvid_val_split_found_from_the_data_folder(camvid_val, camvid_archive):
    assert len(camvid_val) == 51 and camvid_val.images.shape == (51, 3, 360, 480)
    assert camvid_val.source == str(camvid_archive) and camvid_val.split == "val"
    assert set(np.unique(camvid_val.masks)) <= set(range(12))


def test_camvid_pixels_are_the_files_pixels(camvid_train, camvid_archive):
    """Sample i is line i of train.txt, decoded as Pillow decodes the member."""
    listing = _members(camvid_archive, ["CamVid/train.txt"])["CamVid/train.txt"].decode()
    lines = listing.split("\n")
    chosen = {index: ["CamVid/" + "/".join(p.split("/")[-2:]) for p in lines[index].split()]
              for index in (0, 61, 122)}
    files = _members(camvid_archive, [name for names in chosen.values() for name in names])
    for index, (image_name, mask_name) in chosen.items():
        image, mask = (np.asarray(Image.open(io.BytesIO(files[name])))
                       for name in (image_name, mask_name))
        np.testing.assert_array_equal(camvid_train.images[index], image.transpose(2, 0, 1))
        np.testing.assert_array_equal(camvid_train.masks[index], mask)


def _camvid_folder(root, labels=((0, 11), (3, 5))):
    """A two-image CamVid folder in the SegNet layout, images 6x8."""
    folder = root / "CamVid"
    for sub in ("train", "trainannot"):
        (folder / sub).mkdir(parents=True)
    lines = []
    for index, (first, second) in enumerate(labels):
        name = f"img{index}.png"
        image = np.full((6, 8, 3), 40 * index, np.uint8)
        mask = np.full((6, 8), first, np.uint8)
        mask[:, 4:] = second
        (folder / "train" / name).write_bytes(_png(image))
        (folder / "trainannot" / name).write_bytes(_png(mask))
        lines.append(f"/SegNet/CamVid/train/{name} /SegNet/CamVid/trainannot/{name}")
    (folder / "train.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize("level", ["parent", "folder"])
def test_camvid_folder_layouts(tmp_path, level):
    folder = _camvid_folder(tmp_path)
    dataset = data.CamVid(tmp_path if level == "parent" else folder, split="train")
    assert dataset.images.shape == (2, 3, 6, 8)
    assert dataset.masks[0, 0].tolist() == [0] * 4 + [11] * 4
    assert dataset.masks[1, 0].tolist() == [3] * 4 + [5] * 4


def test_camvid_refuses_label_ids_beyond_unlabelled(tmp_path):
    _camvid_folder(tmp_path, labels=((0, 12), (1, 2)))
    with pytest.raises(data.DatasetCorruptError, match=r"label ids \[12\]"):
        data.CamVid(tmp_path)


def test_camvid_missing_split_and_missing_files(tmp_path):
    folder = _camvid_folder(tmp_path)
    with pytest.raises(data.DatasetNotFoundError, match="val.txt"):
        data.CamVid(tmp_path, split="val")
    (folder / "trainannot" / "img1.png").unlink()
    with pytest.raises(data.DatasetNotFoundError, match="img1.png: missing"):
        data.CamVid(tmp_path)
    with pytest.raises(ValueError, match="split"):
        data.CamVid(tmp_path, split="training")


def test_camvid_list_lines_must_name_the_split_folders(tmp_path):
    folder = _camvid_folder(tmp_path)
    (folder / "train.txt").write_text("/SegNet/CamVid/train/img0.png /etc/passwd\n")
    with pytest.raises(data.DatasetCorruptError, match="train.txt line 1"):
        data.CamVid(tmp_path)


def test_camvid_images_of_another_size_are_refused(tmp_path):
    folder = _camvid_folder(tmp_path)
    (folder / "train" / "img1.png").write_bytes(_png(np.zeros((7, 8, 3), np.uint8)))
    with pytest.raises(data.DatasetCorruptError, match="expected a 6x8"):
        data.CamVid(tmp_path)


def test_truncated_camvid_archive(camvid_archive, tmp_path):
    truncated = tmp_path / "camvid-copy.tar.gz"
    truncated.write_bytes(camvid_archive.read_bytes()[: 2 << 20])
    with pytest.raises(data.DatasetCorruptError, match="truncated or corrupt"):
        data.CamVid(truncated)


def test_incomplete_camvid_archive(tmp_path):
    folder = _camvid_folder(tmp_path / "src")
    files = {f"CamVid/{p.relative_to(folder).as_posix()}": p.read_bytes()
             for p in folder.rglob("*") if p.is_file() and p.name != "img1.png"}
    archive = _tar(tmp_path / "camvid-small.tar.gz", files)
    with pytest.raises(data.DatasetCorruptError, match="incomplete.*img1.png"):
        data.CamVid(archive)


# ---------------------------------------------------------------------- ISBI 2012
def test_isbi_splits(isbi_archive, isbi_val):
    train = data.ISBI2012(isbi_archive)
    assert len(train) == 25 and train.slices == list(range(25))
    assert train.images.shape == (25, 1, 512, 512) and train.masks.shape == (25, 512, 512)
    assert train.classes == ["membrane", "cell"] and train.ignore_index is None
    assert train.maps is None
    assert isbi_val.slices == [25, 26, 27, 28, 29] and isbi_val.images.shape == (5, 1, 512, 512)
    for split in (train, isbi_val):
        assert set(np.unique(split.masks)) == {0, 1}
    # membranes are about a fifth of the pixels (observed: 21.96% over all 30 slices)
    membrane = np.concatenate([train.masks, isbi_val.masks]) == 0
    assert membrane.mean() == pytest.approx(0.2196, abs=1e-4)
    everything = data.ISBI2012(isbi_archive, val_count=0)
    assert len(everything) == 30
    np.testing.assert_array_equal(everything.images[25:], isbi_val.images)


def test_isbi_pixels_are_the_files_pixels(isbi_val, isbi_archive):
    files = _members(isbi_archive, ["isbi2012-em/train/image/27.png",
                                    "isbi2012-em/train/label/27.png"])
    image, label = (np.asarray(Image.open(io.BytesIO(p))) for p in files.values())
    np.testing.assert_array_equal(isbi_val.images[2, 0], image)
    np.testing.assert_array_equal(isbi_val.masks[2], label // 255)


def test_isbi_weight_maps_ride_along(isbi_val):
    assert isbi_val.maps.shape == (5, 512, 512) and isbi_val.maps.dtype == np.float32
    image, mask, weights = isbi_val[0]
    assert weights.shape == mask.shape
    # membrane pixels: their class weight, plus up to w0 = 10 between two close cells
    membrane = mask == 0
    assert weights[membrane].min() > weights[~membrane].max()  # the rarer class weighs more
    assert weights[membrane].max() > weights[membrane].min() + 8


def test_isbi_bad_arguments(isbi_archive):
    with pytest.raises(ValueError, match="val_count"):
        data.ISBI2012(isbi_archive, split="val", val_count=0)
    with pytest.raises(ValueError, match="split"):
        data.ISBI2012(isbi_archive, split="test")


def test_isbi_archive_with_a_flipped_byte(isbi_archive, tmp_path):
    damaged = bytearray(isbi_archive.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    same_name = tmp_path / ISBI
    same_name.write_bytes(bytes(damaged))
    with pytest.raises(data.DatasetCorruptError, match="checksum mismatch"):
        data.ISBI2012(same_name)
    other_name = tmp_path / "isbi2012-copy.tar.gz"  # no known checksum: gzip's CRC catches it
    other_name.write_bytes(bytes(damaged))
    with pytest.raises(data.DatasetCorruptError):
        data.ISBI2012(other_name)


def test_incomplete_isbi_archive(tmp_path):
    files = {f"isbi2012-em/train/{kind}/{i}.png": _png(np.zeros((512, 512), np.uint8))
             for kind in ("image", "label") for i in range(30) if (kind, i) != ("label", 3)}
    archive = _tar(tmp_path / "isbi2012-small.tar.gz", files)
    with pytest.raises(data.DatasetCorruptError, match="incomplete.*label/3.png"):
        data.ISBI2012(archive)


def test_isbi_labels_must_be_0_or_255(tmp_path):
    label = np.zeros((512, 512), np.uint8)
    label[0, 0] = 128
    files = {f"isbi2012-em/train/{kind}/{i}.png": _png(label if kind == "label" else
                                                        np.zeros((512, 512), np.uint8))
             for kind in ("image", "label") for i in range(30)}
    with pytest.raises(data.DatasetCorruptError, match="label values"):
        data.ISBI2012(_tar(tmp_path / "isbi2012-x.tar.gz", files))


def test_not_found_message_lists_the_layouts(tmp_path):
    with pytest.raises(data.DatasetNotFoundError, match="isbi2012-em/train"):
        data.ISBI2012(tmp_path)
    with pytest.raises(data.DatasetNotFoundError, match="CamVid"):
        data.CamVid(tmp_path / "nowhere")


# ------------------------------------------------------------- bounded reading
def _chunk(kind, payload):
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _png_declaring(height, width):
    """A small valid-looking PNG whose header declares a huge gray image: its one IDAT
    chunk inflates to a few bytes only."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def test_png_decoding_is_bounded_and_checked():
    gray = _png(np.arange(12, dtype=np.uint8).reshape(3, 4))
    np.testing.assert_array_equal(decode_png(gray, "g", modes=("L",)),
                                  np.arange(12).reshape(3, 4))
    with pytest.raises(data.DatasetCorruptError, match="mode 'L'"):
        decode_png(gray, "g", modes=("RGB",))
    with pytest.raises(data.DatasetCorruptError, match="expected a 4x4"):
        decode_png(gray, "g", modes=("L",), size=(4, 4))
    with pytest.raises(data.DatasetCorruptError, match="more than"):
        decode_png(_png_declaring(9000, 9000), "bomb", modes=("L",))  # 81 megapixels
    with pytest.raises(data.DatasetCorruptError, match="bomb2"):
        decode_png(_png_declaring(100_000, 100_000), "bomb2", modes=("L",))  # Pillow refuses
    with pytest.raises(data.DatasetCorruptError, match="truncated or corrupt"):
        decode_png(gray[: len(gray) // 2], "half", modes=("L",))
    jpeg = io.BytesIO()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(jpeg, format="JPEG")
    with pytest.raises(data.DatasetCorruptError, match="cannot decode"):
        decode_png(jpeg.getvalue(), "jpeg", modes=("L",))  # not handed to another decoder


def test_read_tar_members_by_path_and_bounded(tmp_path):
    archive = _tar(tmp_path / "a.tar.gz", {"x/train/a.png": b"1", "x/trainannot/a.png": b"22",
                                            "big.bin": b"0" * 10_000})
    found = read_tar_members(archive, lambda path: path.endswith(".png"), 1 << 10, 1 << 20, by_path=True)
    assert found == {"x/train/a.png": b"1", "x/trainannot/a.png": b"22"}
    with pytest.raises(data.DatasetCorruptError, match="ends past 5000 bytes"):
        read_tar_members(archive, lambda path: False, 1 << 10, 5000, by_path=True)
    with pytest.raises(data.DatasetCorruptError, match="a.png has 2 bytes, more than the 1"):
        read_tar_members(archive, lambda path: path.endswith(".png"), 1, 1 << 20, by_path=True)
    bomb = tmp_path / "bomb.tar.gz"  # a tiny archive followed by megabytes of zeros
    with tarfile.open(bomb, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
    with open(bomb, "ab") as handle:
        handle.write(zlib.compressobj(9, zlib.DEFLATED, 31).compress(b"\0" * (8 << 20)))
    with pytest.raises(data.DatasetCorruptError, match="after decompression"):
        read_tar_members(bomb, lambda path: True, 1 << 10, 1 << 20)


# ------------------------------------------------------------ the data set itself
def test_batches_apply_the_joint_transforms_per_sample(camvid_val):
    camvid_val.transforms = JT.Compose([JT.RandomCrop((64, 96), mask_fill=11),
                                        JT.RandomHorizontalFlip()])
    try:
        images, masks = camvid_val.get_batch([3, 1, 4], generator=np.random.default_rng(0))
        again = camvid_val.get_batch([3, 1, 4], generator=np.random.default_rng(0))
        loader = data.DataLoader(camvid_val, batch_size=2, generator=1)
        first = next(iter(loader))
        camvid_val.transforms = JT.RandomScale((0.5, 2.0))
        with pytest.raises(ValueError, match="one size"):
            camvid_val.get_batch([0, 1], generator=np.random.default_rng(0))
    finally:
        camvid_val.transforms = None
    assert images.shape == (3, 3, 64, 96) and masks.shape == (3, 64, 96)
    assert masks.dtype == np.int64
    np.testing.assert_array_equal(images, again[0])
    assert first[0].shape == (2, 3, 64, 96) and first[1].dtype == np.int64
