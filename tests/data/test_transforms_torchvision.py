"""torchvision's transform vocabulary (ToTensor, Resize, CenterCrop, RandomResizedCrop,
ColorJitter, RandomRotation, RandomErasing, Lambda) against their definitions written out
pixel by pixel, and data sets that return Tensors when ToTensor is in the transform.
(benchmarks/check_transforms_torchvision.py compares them with torchvision itself.)"""
import math

import numpy as np
import pytest
from PIL import Image

import minitorch_cv as mt
from minitorch_cv import data
from minitorch_cv.data import transforms as T
from minitorch_cv.data.transforms_color import hsv_to_rgb, rgb_to_hsv
from minitorch_cv.data.transforms_resize import InterpolationMode, resize_crops
from minitorch_cv.data.vision import ImageArrayDataset


def _uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _floats(shape, seed=0):
    return np.random.default_rng(seed).random(shape)


# ------------------------------------------------------------------ ToTensor
def test_to_tensor_scales_uint8_and_keeps_channel_first_arrays():
    image = _uint8((3, 5, 7))
    out = T.ToTensor()(image)
    assert isinstance(out, mt.Tensor) and out.dtype == mt.float32 and out.shape == (3, 5, 7)
    np.testing.assert_array_equal(out.numpy(), image.astype(np.float32) / np.float32(255))
    batch = T.ToTensor()(_uint8((2, 1, 4, 4)))
    assert batch.shape == (2, 1, 4, 4)
    assert T.ToTensor()(_uint8((5, 6))).shape == (1, 5, 6)
    doubles = _floats((3, 2, 2))
    assert T.ToTensor()(doubles).dtype == mt.float64  # values and dtype kept


def test_to_tensor_transposes_torchvision_layouts():
    hwc = _uint8((32, 30, 3))
    out = T.ToTensor()(hwc)
    assert out.shape == (3, 32, 30)
    np.testing.assert_array_equal(out.numpy(), hwc.transpose(2, 0, 1) / np.float32(255))
    pil = T.ToTensor()(Image.fromarray(hwc))
    np.testing.assert_array_equal(pil.numpy(), out.numpy())
    gray = T.ToTensor()(Image.fromarray(hwc[:, :, 0]))
    assert gray.shape == (1, 32, 30)
    with pytest.raises(TypeError, match="ToTensor: expected a NumPy array"):
        T.ToTensor()([1, 2, 3])


def test_data_sets_return_tensors_when_to_tensor_is_in_the_transform():
    images = _uint8((6, 3, 8, 8))
    transform = T.Compose([T.RandomCrop(6), T.ToTensor(), T.Normalize((0.5,), (0.25,))])
    dataset = ImageArrayDataset(images, np.arange(6), [str(i) for i in range(6)], transform)
    image, label = dataset[2]
    assert isinstance(image, mt.Tensor) and image.dtype == mt.float32 and image.shape == (3, 6, 6)
    assert label == 2
    batch, labels = next(iter(data.DataLoader(dataset, batch_size=4)))
    assert batch.dtype == mt.float32 and batch.shape == (4, 3, 6, 6)
    assert float(batch.numpy().min()) >= -2.0 and float(batch.numpy().max()) <= 2.0


# -------------------------------------------------------------------- Resize
def _triangle_resize_1d(signal, out_size, antialias):
    """The docstring's definition, one output pixel at a time."""
    in_size = len(signal)
    scale = in_size / out_size
    support = max(scale, 1.0) if antialias else 1.0
    out = []
    for o in range(out_size):
        centre = (o + 0.5) * scale
        weights = [max(0.0, 1 - abs(j + 0.5 - centre) / support) for j in range(in_size)]
        out.append(sum(w * v for w, v in zip(weights, signal)) / sum(weights))
    return np.array(out)


@pytest.mark.parametrize("in_size, out_size", [(7, 3), (8, 4), (5, 11), (9, 9), (12, 5)])
@pytest.mark.parametrize("antialias", [True, False])
def test_bilinear_resize_is_the_separable_triangle_filter(in_size, out_size, antialias):
    images = _floats((2, 3, in_size, in_size + 2))
    out = resize_crops(images, (out_size, out_size + 1), (0, 0, in_size, in_size + 2),
                       InterpolationMode.BILINEAR, antialias)
    expected = np.apply_along_axis(_triangle_resize_1d, 2, images, out_size, antialias)
    expected = np.apply_along_axis(_triangle_resize_1d, 3, expected, out_size + 1, antialias)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_upsampling_by_two_is_bilinear_with_the_border_repeated():
    ramp = np.array([[[[0.0, 4.0, 8.0]]]])
    out = resize_crops(ramp, (1, 6), (0, 0, 1, 3), InterpolationMode.BILINEAR, True)
    # output pixel centres at 0.25, 0.75, ..., 2.75 source pixels: (x - 0.5) clamped
    np.testing.assert_allclose(out[0, 0, 0], [0, 1, 3, 5, 7, 8])


def test_nearest_resize_and_uint8_rounding():
    images = _uint8((1, 2, 10, 6))
    out = resize_crops(images, (6, 4), (0, 0, 10, 6), InterpolationMode.NEAREST)
    rows = [math.floor(o * 10 / 6) for o in range(6)]
    cols = [math.floor(o * 6 / 4) for o in range(4)]
    np.testing.assert_array_equal(out, images[:, :, rows][:, :, :, cols])
    assert out.dtype == np.uint8
    ramp = np.arange(26.0).reshape(1, 1, 26, 1)  # PyTorch's float32 rule: 11 * (26 / 22)
    picked = resize_crops(ramp, (22, 1), (0, 0, 26, 1), InterpolationMode.NEAREST)
    assert picked[0, 0, 11, 0] == 12  # is 12.999999 in float32, so pixel 12, not 13
    halves = np.array([[[[0, 1]]]], dtype=np.uint8)  # upsampled: 0, .25, .75, 1 -> rounded
    up = resize_crops(halves, (1, 4), (0, 0, 1, 2), InterpolationMode.BILINEAR, True)
    np.testing.assert_array_equal(up[0, 0, 0], [0, 0, 1, 1])


def test_resize_sizes_follow_torchvision():
    image = _uint8((3, 20, 30))
    assert T.Resize(10)(image).shape == (3, 10, 15)  # the shorter side becomes 10
    assert T.Resize([10])(image).shape == (3, 10, 15)
    assert T.Resize((7, 9))(image).shape == (3, 7, 9)
    assert T.Resize(10, max_size=12)(image).shape == (3, 8, 12)  # the longer side capped
    assert T.Resize(7)(_uint8((3, 30, 20))).shape == (3, 10, 7)  # int(7 * 30 / 20)
    with pytest.raises(ValueError, match="max_size"):
        T.Resize((7, 9), max_size=12)(image)
    with pytest.raises(ValueError, match="Resize: size must be >= 1"):
        T.Resize(0)
    with pytest.raises(ValueError, match="interpolation: expected"):
        T.Resize(4, interpolation=InterpolationMode.BICUBIC)


# ---------------------------------------------------------------- CenterCrop
@pytest.mark.parametrize("H, W, OH, OW", [(7, 9, 3, 4), (8, 8, 5, 5), (6, 10, 6, 7), (5, 5, 5, 5)])
def test_center_crop_offsets_round_half_to_even(H, W, OH, OW):
    images = _uint8((2, 1, H, W))
    top, left = round((H - OH) / 2), round((W - OW) / 2)  # Python's round: ties to even
    np.testing.assert_array_equal(T.CenterCrop((OH, OW))(images),
                                  images[:, :, top : top + OH, left : left + OW])


def test_center_crop_larger_than_the_image_pads_with_zeros():
    image = np.full((1, 2, 3), 7, np.uint8)
    out = T.CenterCrop((5, 6))(image)
    assert out.shape == (1, 5, 6)
    expected = np.zeros((1, 5, 6), np.uint8)
    expected[:, 1:3, 1:4] = 7  # 3 rows of padding (1 above, 2 below), 3 columns (1 | 2)
    np.testing.assert_array_equal(out, expected)


# --------------------------------------------------------- RandomResizedCrop
def test_random_resized_crop_boxes_and_output():
    crop = T.RandomResizedCrop(8, scale=(0.2, 0.9), ratio=(0.5, 2.0))
    images = _uint8((64, 3, 20, 30))
    top, left, h, w = crop.draw(images.shape, np.random.default_rng(0))
    assert np.all(top >= 0) and np.all(top + h <= 20) and np.all(left >= 0) and np.all(left + w <= 30)
    assert np.all(h * w <= 0.9 * 600 + 30) and np.all(h * w >= 0.2 * 600 - 30)  # rounding of h, w
    assert np.all(w / h >= 0.5 * 0.8) and np.all(w / h <= 2.0 * 1.25)
    assert len(set(zip(top.tolist(), left.tolist(), h.tolist(), w.tolist()))) > 50  # per image
    out = crop(images, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(out, resize_crops(images, (8, 8), (top, left, h, w)))
    assert out.shape == (64, 3, 8, 8) and out.dtype == np.uint8


def test_random_resized_crop_falls_back_to_the_central_crop():
    crop = T.RandomResizedCrop((4, 4), scale=(2.0, 3.0), ratio=(1.0, 1.0))  # never fits
    top, left, h, w = crop.draw((3, 1, 10, 16), np.random.default_rng(0))
    assert h.tolist() == [10] * 3 and w.tolist() == [10] * 3  # ratio clamped to 1
    assert top.tolist() == [0] * 3 and left.tolist() == [3] * 3
    with pytest.raises(ValueError, match="scale"):
        T.RandomResizedCrop(4, scale=(0.5, 0.1))


# --------------------------------------------------------------- ColorJitter
def test_hsv_round_trip_and_known_colours():
    rgb = _floats((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(hsv_to_rgb(rgb_to_hsv(rgb)), rgb, atol=1e-6)
    red = np.array([1.0, 0, 0], np.float32).reshape(1, 3, 1, 1)
    assert rgb_to_hsv(red).reshape(3).tolist() == [0.0, 1.0, 1.0]
    hsv = rgb_to_hsv(red)
    hsv[:, 0] = 1 / 3  # a third of a turn: green
    np.testing.assert_allclose(hsv_to_rgb(hsv).reshape(3), [0, 1, 0], atol=1e-6)


def test_color_jitter_formulas():
    jitter = T.ColorJitter()
    images = _floats((2, 3, 4, 4)).astype(np.float32)
    bright = jitter._adjust(0, images, np.array([1.5, 0.5]), 1.0)
    np.testing.assert_allclose(bright, np.clip(images * np.array([1.5, 0.5]).reshape(2, 1, 1, 1), 0, 1),
                               rtol=1e-6)
    gray = 0.2989 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]
    contrast = jitter._adjust(1, images, np.array([0.3, 2.0]), 1.0)
    for n, c in enumerate((0.3, 2.0)):
        expected = np.clip(c * images[n] + (1 - c) * gray[n].mean(), 0, 1)
        np.testing.assert_allclose(contrast[n], expected, rtol=1e-5, atol=1e-6)
    saturation = jitter._adjust(2, images, np.array([0.0, 0.0]), 1.0)
    np.testing.assert_allclose(saturation, np.repeat(gray[:, None], 3, axis=1), atol=1e-6)
    uint8 = _uint8((1, 3, 4, 4))
    dimmed = jitter._adjust(0, uint8, np.array([0.5]), 255)
    np.testing.assert_array_equal(dimmed, (uint8 * np.float32(0.5)).astype(np.uint8))  # truncated


def test_color_jitter_draws_an_order_and_factors_per_image():
    jitter = T.ColorJitter(brightness=0.4, contrast=(0.5, 0.6), saturation=0.2, hue=0.1)
    order, factors = jitter.draw((200, 3, 4, 4), np.random.default_rng(0))
    assert all(sorted(row) == [0, 1, 2, 3] for row in order.tolist())
    assert len({tuple(row) for row in order.tolist()}) > 10
    assert factors[0].min() >= 0.6 and factors[0].max() <= 1.4
    assert factors[1].min() >= 0.5 and factors[1].max() <= 0.6
    assert np.abs(factors[3]).max() <= 0.1
    images = _uint8((200, 3, 4, 4))
    out = jitter(images, generator=np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.shape == images.shape and not np.array_equal(out, images)
    unchanged = T.ColorJitter()(images, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(unchanged, images)
    gray_images = _uint8((2, 1, 4, 4))
    np.testing.assert_array_equal(T.ColorJitter(saturation=0.9, hue=0.4)(gray_images), gray_images)
    with pytest.raises(ValueError, match="hue"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="brightness"):
        T.ColorJitter(brightness=-1)


# ------------------------------------------------------------ RandomRotation
def _rotated(images, angle, **kwargs):
    rotation = T.RandomRotation((angle, angle), **kwargs)
    return rotation(images, generator=np.random.default_rng(0))


def test_rotation_by_right_angles_is_exact():
    square = _uint8((2, 3, 6, 6))
    np.testing.assert_array_equal(_rotated(square, 0), square)
    # counter-clockwise on the screen, as np.rot90 over (H, W)
    np.testing.assert_array_equal(_rotated(square, 90), np.rot90(square, 1, axes=(2, 3)))
    np.testing.assert_array_equal(_rotated(square, -90), np.rot90(square, -1, axes=(2, 3)))
    wide = _uint8((2, 3, 5, 8))
    np.testing.assert_array_equal(_rotated(wide, 180), wide[:, :, ::-1, ::-1])
    floats = _floats((1, 2, 5, 7))
    np.testing.assert_allclose(_rotated(floats, 180, interpolation="bilinear"),
                               floats[:, :, ::-1, ::-1], atol=1e-12)
    expanded = _rotated(wide[:1], 90, expand=True)
    np.testing.assert_array_equal(expanded, np.rot90(wide[:1], 1, axes=(2, 3)))


def test_rotation_fills_what_comes_from_outside():
    images = np.full((1, 2, 9, 9), 50, np.uint8)
    out = _rotated(images, 45, fill=(7, 9))
    assert out[0, 0, 0, 0] == 7 and out[0, 1, 0, 0] == 9  # a corner comes from outside
    assert (out[:, :, 4, 4] == 50).all()  # the centre stays
    x, y = np.meshgrid(np.arange(9) - 4, np.arange(9) - 4)
    inside = np.hypot(x, y) <= 4  # the inscribed disc always reads the image
    assert (out[0, 0][inside] == 50).all()


def test_rotation_about_a_given_centre():
    images = _uint8((1, 1, 7, 7))
    # rotating by 180 about pixel (x=2, y=3)'s centre maps column 2 + d to 2 - d
    out = _rotated(images, 180, center=(2.5, 3.5), fill=0)
    np.testing.assert_array_equal(out[0, 0, 0:7, 0:5], images[0, 0, 6::-1, 4::-1])
    assert (out[0, 0, :, 5:] == 0).all()


def test_rotation_arguments():
    angles = T.RandomRotation(30).draw((500, 1, 2, 2), np.random.default_rng(0))
    assert angles.min() >= -30 and angles.max() <= 30 and angles.std() > 10
    assert not T.RandomRotation(10, expand=True).batched and T.RandomRotation(10).batched
    with pytest.raises(ValueError, match=r"expand=True\) gives each image its own size"):
        T.RandomRotation(10, expand=True)(_uint8((2, 1, 4, 4)))
    with pytest.raises(ValueError, match="degrees"):
        T.RandomRotation(-5)


# ------------------------------------------------------------- RandomErasing
def test_random_erasing_rectangles():
    images = _floats((300, 3, 10, 12)).astype(np.float32) + 1  # no zeros
    erasing = T.RandomErasing(p=0.5, scale=(0.1, 0.3), ratio=(0.5, 2.0), value=(0, -1, -2))
    out = erasing(images, generator=np.random.default_rng(0))
    changed = (out != images).any(axis=(1, 2, 3))
    assert 0.35 < changed.mean() < 0.65  # p = 0.5
    for n in np.flatnonzero(changed)[:20]:
        rows, cols = np.nonzero(out[n, 0] != images[n, 0])
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert len(rows) == h * w and 0.1 * 120 - 6 <= h * w <= 0.3 * 120 + 6  # one rectangle
        assert (out[n, 1][rows, cols] == -1).all() and (out[n, 2][rows, cols] == -2).all()
    never = T.RandomErasing(p=0)(images, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(never, images)
    noisy = T.RandomErasing(p=1, value="random")(images[:4], generator=np.random.default_rng(0))
    assert (noisy != images[:4]).any()
    with pytest.raises(TypeError, match="value='random'"):
        T.RandomErasing(p=1, value="random")(_uint8((1, 1, 8, 8)))
    with pytest.raises(ValueError, match="value"):
        T.RandomErasing(value="zeros")


# -------------------------------------------------------------------- Lambda
def test_lambda_is_applied_per_image_by_data_sets():
    images = _uint8((4, 3, 5, 5))

    def first_channel(image):
        assert image.shape == (3, 5, 5), "a Lambda must get one image"
        return image[:1]

    transform = T.Compose([T.RandomHorizontalFlip(), T.Lambda(first_channel)])
    assert not transform.batched and T.Compose([T.ToTensor()]).batched
    dataset = ImageArrayDataset(images, np.arange(4), list("abcd"), transform)
    batch, _ = dataset.get_batch(np.arange(4), np.random.default_rng(0))
    assert batch.shape == (4, 1, 5, 5)
    assert T.Lambda(lambda x: x + 1)(np.zeros(2)).tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="lambd"):
        T.Lambda(3)
