"""Batch transforms against per-image computations written out by hand."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.data import transforms as T


def _images(shape, seed=0, low=0):
    return np.random.default_rng(seed).integers(low, 256, size=shape, dtype=np.uint8)


def _reflect_index(i, size):
    """Where padded coordinate i (may be negative or >= size) reads from, mirroring
    without repeating the edge pixel (valid for padding < size)."""
    if i < 0:
        return -i
    if i >= size:
        return 2 * (size - 1) - i
    return i


# ---------------------------------------------------------------- RandomCrop
@pytest.mark.parametrize(
    "size, padding, pads",  # pads = (top, bottom, left, right) by torchvision's convention
    [
        ((5, 7), 2, (2, 2, 2, 2)),
        ((6, 9), (3, 1), (1, 1, 3, 3)),  # (left/right, top/bottom)
        ((4, 10), (1, 2, 3, 0), (2, 0, 1, 3)),  # (left, top, right, bottom)
        (6, None, (0, 0, 0, 0)),
    ],
)
def test_random_crop_constant_padding_matches_a_hand_crop(size, padding, pads):
    images = _images((7, 2, 6, 9), low=1)  # no zeros, so padding is recognizable
    crop = T.RandomCrop(size, padding=padding, fill=0)
    top, left = crop.draw(images.shape, np.random.default_rng(3))
    out = crop(images, generator=np.random.default_rng(3))
    OH, OW = (size, size) if isinstance(size, int) else size
    pt, pb, pl, pr = pads
    assert out.shape == (7, 2, OH, OW) and out.dtype == np.uint8
    for n in range(7):
        padded = np.zeros((2, 6 + pt + pb, 9 + pl + pr), np.uint8)
        padded[:, pt : pt + 6, pl : pl + 9] = images[n]
        assert 0 <= top[n] <= padded.shape[1] - OH and 0 <= left[n] <= padded.shape[2] - OW
        expected = padded[:, top[n] : top[n] + OH, left[n] : left[n] + OW]
        np.testing.assert_array_equal(out[n], expected)


def test_random_crop_reflect_padding():
    images = _images((5, 3, 6, 8))
    # padding (3, 2): 3 columns left and right, 2 rows top and bottom
    crop = T.RandomCrop((6, 8), padding=(3, 2), padding_mode="reflect")
    top, left = crop.draw(images.shape, np.random.default_rng(1))
    out = crop(images, generator=np.random.default_rng(1))
    for n in range(5):
        for i in range(6):
            for j in range(8):
                source_row = _reflect_index(top[n] + i - 2, 6)
                source_col = _reflect_index(left[n] + j - 3, 8)
                np.testing.assert_array_equal(out[n, :, i, j], images[n, :, source_row, source_col])


def test_random_crop_fill_and_edge_mode():
    images = _images((2, 1, 3, 3))
    corner = (np.array([0, 0]), np.array([0, 0]))  # top-left offsets for both images
    constant = T.RandomCrop(5, padding=1, fill=7).apply(images, corner)
    assert constant[0, 0, 0, 0] == 7 and constant[0, 0, 1, 1] == images[0, 0, 0, 0]
    edge = T.RandomCrop(5, padding=1, padding_mode="edge").apply(images, corner)
    assert edge[1, 0, 0, 0] == images[1, 0, 0, 0] and edge[1, 0, 4, 4] == images[1, 0, 2, 2]


def test_random_crop_offsets_cover_the_whole_range():
    crop = T.RandomCrop(32, padding=4)
    top, left = crop.draw((2000, 3, 32, 32), np.random.default_rng(0))
    assert set(top.tolist()) == set(range(9)) and set(left.tolist()) == set(range(9))


def test_random_crop_errors():
    with pytest.raises(ValueError, match="size"):
        T.RandomCrop(10, padding=1)(_images((1, 1, 5, 5)))
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(4, padding_mode="wrap")
    with pytest.raises(ValueError, match="padding"):
        T.RandomCrop(4, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        T.RandomCrop(4, padding=-1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        T.RandomCrop(4)(np.zeros((4, 4), np.uint8))


# ---------------------------------------------------------------- RandomHorizontalFlip
def test_flip_flips_exactly_the_images_whose_coin_came_up():
    images = _images((64, 3, 5, 7))
    flip = T.RandomHorizontalFlip(p=0.5)
    coins = flip.draw(images.shape, np.random.default_rng(4))
    out = flip(images, generator=np.random.default_rng(4))
    assert 0 < coins.sum() < 64  # both outcomes occur in this draw
    for n in range(64):
        expected = images[n, :, :, ::-1] if coins[n] else images[n]
        np.testing.assert_array_equal(out[n], expected)


@pytest.mark.parametrize("p, flipped", [(0.0, False), (1.0, True)])
def test_flip_probability_extremes(p, flipped):
    images = _images((8, 2, 3, 4))
    out = T.RandomHorizontalFlip(p)(images, generator=0)
    np.testing.assert_array_equal(out, images[..., ::-1] if flipped else images)


def test_flip_rate():
    coins = T.RandomHorizontalFlip(0.3).draw((10000, 1, 1, 1), np.random.default_rng(0))
    assert abs(coins.mean() - 0.3) < 0.02  # 4.4 standard deviations of a binomial mean


# ---------------------------------------------------------------- ToFloat / Normalize
def test_to_float():
    images = np.array([0, 1, 128, 255], np.uint8).reshape(1, 1, 2, 2)
    out = T.ToFloat()(images)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.reshape(-1), [0, 1 / 255, 128 / 255, 1], rtol=1e-6)


def test_normalize_numbers():
    images = _images((3, 3, 4, 5))
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    out = T.Normalize(mean, std)(images)
    assert out.dtype == np.float32 and out.shape == images.shape
    for c in range(3):
        expected = (images[:, c].astype(np.float64) / 255 - mean[c]) / std[c]
        np.testing.assert_allclose(out[:, c], expected, rtol=1e-5, atol=1e-5)
    # A hand-checked pixel: 255 in channel 0 -> (1 - 0.4914) / 0.2470 = 2.0591...
    one = T.Normalize(mean, std)(np.full((1, 3, 1, 1), 255, np.uint8))
    assert abs(one[0, 0, 0, 0] - 2.0591093) < 1e-5


def test_normalize_float_input_is_not_modified():
    images = np.random.default_rng(0).random((2, 1, 3, 3)).astype(np.float32)
    before = images.copy()
    out = T.Normalize(0.5, 0.5)(images)
    np.testing.assert_array_equal(images, before)
    np.testing.assert_allclose(out, (before - 0.5) / 0.5, rtol=1e-6)


def test_normalize_errors():
    with pytest.raises(ValueError, match="mean"):
        T.Normalize((0.1, 0.2), (1, 1, 1))(_images((1, 3, 2, 2)))
    with pytest.raises(ValueError, match="std"):
        T.Normalize(0.5, 0.0)
    with pytest.raises(TypeError, match="uint8 or floating"):
        T.Normalize(0.5, 0.5)(np.zeros((1, 1, 2, 2), np.int32))


# ---------------------------------------------------------------- Cutout
@pytest.mark.parametrize(
    "size, cy, cx, rows, cols",
    [
        (4, 5, 3, range(3, 7), range(1, 5)),  # inside: 4 x 4
        (4, 0, 0, range(0, 2), range(0, 2)),  # corner: clipped to 2 x 2
        (3, 4, 7, range(3, 6), range(6, 8)),  # odd size, clipped on the right
        (20, 4, 4, range(0, 8), range(0, 8)),  # larger than the image: everything
    ],
)
def test_cutout_zeroes_the_clipped_square(size, cy, cx, rows, cols):
    images = _images((1, 2, 8, 8), low=1)
    out = T.Cutout(size).apply(images, (np.array([cy]), np.array([cx])))
    expected = images.copy()
    for r in rows:
        for c in cols:
            expected[0, :, r, c] = 0
    np.testing.assert_array_equal(out, expected)


def test_cutout_per_image_squares():
    images = _images((50, 3, 10, 12), low=1)
    cutout = T.Cutout(4)
    cy, cx = cutout.draw(images.shape, np.random.default_rng(2))
    out = cutout(images, generator=np.random.default_rng(2))
    assert out.dtype == np.uint8
    for n in range(50):
        rows = range(max(cy[n] - 2, 0), min(cy[n] + 2, 10))
        cols = range(max(cx[n] - 2, 0), min(cx[n] + 2, 12))
        zero = out[n, 0] == 0
        assert zero.sum() == len(rows) * len(cols)
        assert zero[rows.start : rows.stop, cols.start : cols.stop].all()
        assert (out[n][:, ~zero] == images[n][:, ~zero]).all()


def test_cutout_on_normalized_floats_sets_zero():
    images = np.ones((2, 3, 6, 6), np.float32)
    out = T.Cutout(2).apply(images, (np.array([3, 3]), np.array([3, 3])))
    assert out.dtype == np.float32 and out.sum() == images.sum() - 2 * 3 * 4


# ---------------------------------------------------------------- PCALighting
def test_pca_lighting_adds_a_per_image_colour_shift():
    images = _images((6, 3, 4, 5))
    lighting = T.PCALighting(alphastd=0.1)
    alpha = lighting.draw(images.shape, np.random.default_rng(5))
    out = lighting(images, generator=np.random.default_rng(5))
    assert out.dtype == np.float32
    eigval, eigvec = T.IMAGENET_PCA_EIGVAL, T.IMAGENET_PCA_EIGVEC
    for n in range(6):
        for c in range(3):
            shift = sum(eigvec[c][j] * alpha[n, j] * eigval[j] for j in range(3))
            difference = out[n, c] - images[n, c] / 255
            np.testing.assert_allclose(difference, shift, atol=1e-6)
    assert np.std(alpha) > 0.05  # alpha really is random with std ~0.1


def test_pca_lighting_zero_std_and_errors():
    images = _images((2, 3, 2, 2))
    np.testing.assert_allclose(T.PCALighting(0.0)(images), images / 255, rtol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        T.PCALighting()(_images((2, 1, 2, 2)))
    with pytest.raises(ValueError, match="eigvec"):
        T.PCALighting(eigvec=np.eye(2))
    with pytest.raises(ValueError, match="alphastd"):
        T.PCALighting(-1)


# ---------------------------------------------------------------- Compose, seeds, inputs
CIFAR_PIPELINE = [
    T.RandomCrop(32, padding=4, padding_mode="reflect"),
    T.RandomHorizontalFlip(),
    T.PCALighting(0.1),
    T.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26)),
    T.Cutout(8),
]


def test_compose_is_the_sequence_under_one_generator():
    images = _images((4, 3, 32, 32))
    composed = T.Compose(CIFAR_PIPELINE)(images, generator=np.random.default_rng(9))
    generator = np.random.default_rng(9)
    by_hand = images
    for transform in CIFAR_PIPELINE:
        by_hand = transform(by_hand, generator=generator)
    np.testing.assert_array_equal(composed, by_hand)
    assert composed.dtype == np.float32 and composed.shape == (4, 3, 32, 32)


def test_reproducible_under_a_seed():
    images = _images((8, 3, 32, 32))
    pipeline = T.Compose(CIFAR_PIPELINE)
    np.testing.assert_array_equal(pipeline(images, generator=1), pipeline(images, generator=1))
    assert not np.array_equal(pipeline(images, generator=1), pipeline(images, generator=2))
    mt.manual_seed(123)
    first = pipeline(images)
    mt.manual_seed(123)
    np.testing.assert_array_equal(pipeline(images), first)


def test_single_image_and_tensor_inputs():
    image = _images((3, 8, 8))
    out = T.RandomHorizontalFlip(1.0)(image)
    np.testing.assert_array_equal(out, image[:, :, ::-1])
    tensor_out = T.Normalize(0.5, 0.5)(mt.tensor(image[None]))
    assert isinstance(tensor_out, mt.Tensor) and tensor_out.dtype == np.float32
    assert tensor_out.shape == (1, 3, 8, 8)


def test_plain_callables_in_compose():
    images = _images((2, 1, 2, 2))
    out = T.Compose([T.ToFloat(), lambda x: x * 2])(images)
    np.testing.assert_allclose(out, images / 255 * 2, rtol=1e-6)
