"""Joint transforms: the image and its label maps keep the same geometry.

The alignment tests draw a label map and paint the image from it, one channel per
label (channel k is 255 where the label is k): a pixel of the transformed image that is
still exactly "one channel 255, the others 0" comes from inside a region of one label
(bilinear mixing at a region's edge gives mixed colours), so the transformed label
map must hold that label there. Transforms that resample by nearest neighbour could
pass this only if they send the image and the labels to the same place.
"""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.data import joint_transforms as JT
from minitorch_cv.data import transforms as T
from minitorch_cv.nn import functional as F

LABELS = 4


def drawn_sample(H=48, W=64, seed=0):
    """A label map of rectangles and a disc (ids 0..3) and the image painted from it."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((H, W), np.int64)
    for label in (1, 2):
        top, left = rng.integers(0, H // 2), rng.integers(0, W // 2)
        mask[top:top + H // 3, left:left + W // 3] = label
    rows, cols = np.mgrid[:H, :W]
    mask[(rows - H * 0.6) ** 2 + (cols - W * 0.7) ** 2 < (H / 6) ** 2] = 3
    image = (255 * (mask[None] == np.arange(LABELS)[:, None, None])).astype(np.uint8)
    return image, mask


def assert_aligned(image, mask, minimum_share=0.6):
    pure = ((image == 255).sum(axis=0) == 1) & ((image == 0).sum(axis=0) == LABELS - 1)
    assert pure.mean() > minimum_share  # the check below is not vacuous
    np.testing.assert_array_equal(mask[pure], image.argmax(axis=0)[pure])


@pytest.mark.parametrize("transform", [
    JT.Resize((31, 45)),
    JT.Resize(100),
    JT.RandomScale((0.4, 2.5)),
    JT.Compose([JT.RandomScale((0.5, 2.0)), JT.RandomCrop((40, 40), mask_fill=255),
                JT.RandomHorizontalFlip(), JT.RandomVerticalFlip()]),
    JT.ElasticDeformation(sigma=6.0),
    JT.ElasticDeformation(grid=4, sigma=4.0, border="constant"),
    JT.Compose([JT.ElasticDeformation(sigma=10.0), JT.CenterCrop((32, 48))]),
], ids=repr)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_image_and_labels_stay_aligned(transform, seed):
    image, mask = drawn_sample(seed=seed)
    out_image, out_mask = transform(image, mask, generator=np.random.default_rng(seed))
    assert out_image.dtype == np.uint8 and out_mask.dtype == np.int64
    assert out_image.shape[1:] == out_mask.shape
    assert_aligned(out_image, np.where(out_mask == 255, -1, out_mask))


def test_a_drawn_label_map_survives_a_round_trip():
    image, mask = drawn_sample(H=30, W=40)
    up, up_mask = JT.Resize((60, 80))(image, mask)
    _, back = JT.Resize((30, 40))(up, up_mask)
    np.testing.assert_array_equal(back, mask)  # nearest: 2x up, 2x down is the identity
    flip = JT.RandomHorizontalFlip(p=1.0)
    np.testing.assert_array_equal(flip(*flip(image, mask))[1], mask)
    for transform in (JT.ElasticDeformation(sigma=0.0), JT.Resize((30, 40)),
                      JT.RandomScale((1.0, 1.0))):
        same_image, same_mask = transform(image, mask)
        np.testing.assert_array_equal(same_image, image)
        np.testing.assert_array_equal(same_mask, mask)


def test_labels_are_never_blended():
    image, mask = drawn_sample()
    for seed in range(3):
        out = JT.ElasticDeformation(sigma=8.0)(image, mask, generator=seed)[1]
        assert set(np.unique(out)) <= set(range(LABELS))
        out = JT.RandomScale((0.3, 3.0))(image, mask, generator=seed)[1]
        assert set(np.unique(out)) <= set(range(LABELS))


def test_crop_pads_labels_with_the_ignore_id_and_weights_with_zero():
    image = np.full((3, 5, 6), 7, np.uint8)
    mask = np.ones((5, 6), np.int64)
    weights = np.full((5, 6), 2.0, np.float32)
    crop = JT.RandomCrop((8, 9), fill=100, mask_fill=11)
    out_image, out_mask, out_weights = crop(image, mask, weights, generator=0)
    assert out_image.shape == (3, 8, 9)
    assert (out_mask[:5, :6] == 1).all() and (out_mask[5:] == 11).all() and \
        (out_mask[:, 6:] == 11).all()
    assert (out_image[:, 5:] == 100).all() and (out_image[:, :5, :6] == 7).all()
    assert (out_weights[5:] == 0).all() and (out_weights[:5, :6] == 2).all()
    assert out_weights.dtype == np.float32
    with pytest.raises(ValueError, match="larger than the image"):
        JT.RandomCrop((8, 9), pad_if_needed=False)(image, mask)


def test_random_crop_windows_are_uniform_and_aligned():
    image, mask = drawn_sample()
    tops = set()
    for seed in range(40):
        out_image, out_mask = JT.RandomCrop((20, 30))(image, mask, generator=seed)
        top = next(t for t in range(48 - 19) for left in range(64 - 29)
                   if (mask[t:t + 20, left:left + 30] == out_mask).all()
                   and (image[:, t:t + 20, left:left + 30] == out_image).all())
        tops.add(top)
    assert len(tops) > 10


def test_the_same_generator_gives_the_same_sample():
    image, mask = drawn_sample()
    augment = JT.Compose([JT.ElasticDeformation(), JT.RandomScale(), JT.RandomCrop(32),
                          JT.RandomHorizontalFlip()])
    first = augment(image, mask, generator=np.random.default_rng(5))
    second = augment(image, mask, generator=np.random.default_rng(5))
    other = augment(image, mask, generator=np.random.default_rng(6))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_image_transforms_leave_the_maps_alone():
    image, mask = drawn_sample()
    pipeline = JT.Compose([JT.RandomHorizontalFlip(p=1.0), T.Normalize((0.5,), (0.25,))])
    out_image, out_mask = pipeline(image, mask)
    np.testing.assert_allclose(out_image, (image[:, :, ::-1] / 255 - 0.5) / 0.25, rtol=1e-6)
    np.testing.assert_array_equal(out_mask, mask[:, ::-1])
    swapped = JT.Compose([lambda image, mask: (image, 3 - mask)])  # a plain joint callable
    np.testing.assert_array_equal(swapped(image, mask)[1], 3 - mask)


@pytest.mark.parametrize("size", [(6, 8), (2, 3), (5, 13)])
def test_resize_is_interpolate_bilinear_for_images(size):
    """The image resampling is F.interpolate's bilinear (align_corners=False)."""
    image = np.random.default_rng(0).random((2, 4, 7), dtype=np.float32)
    out, _ = JT.Resize(size)(image, np.zeros((4, 7), np.int64))
    assert out.dtype == np.float32
    expected = F.interpolate(mt.tensor(image[None]), size=size, mode="bilinear",
                             align_corners=False)
    np.testing.assert_allclose(out, expected.numpy()[0], rtol=1e-5, atol=1e-6)


def test_cubic_interpolation_matrix():
    matrix = JT.cubic_interpolation_matrix(9, 3)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)  # a constant field stays constant
    np.testing.assert_allclose(matrix[[0, 4, 8]], np.eye(3), atol=1e-12)  # interpolating
    ramp = matrix @ np.array([0.0, 1.0, 2.0])
    assert (np.diff(ramp) > 0).all()  # a monotone grid gives a monotone field
    np.testing.assert_allclose(ramp, 2 - ramp[::-1], atol=1e-12)  # and a symmetric one


def test_elastic_displacements_have_the_papers_scale():
    deformation = JT.ElasticDeformation(sigma=10.0)
    corners = [deformation.displacement(64, 64, np.random.default_rng(seed))[0][0, 0]
               for seed in range(400)]
    assert np.std(corners) == pytest.approx(10.0, rel=0.15)  # control points are N(0, 10^2)


def test_bad_arguments():
    image, mask = drawn_sample()
    with pytest.raises(ValueError, match="input 1"):
        JT.RandomHorizontalFlip()(image, mask[:, :5])
    with pytest.raises(ValueError, match="image"):
        JT.RandomHorizontalFlip()(mask, mask)
    with pytest.raises(ValueError, match="scale"):
        JT.RandomScale((2.0, 1.0))
    with pytest.raises(ValueError, match="size"):
        JT.RandomCrop(0)
    with pytest.raises(ValueError, match="border"):
        JT.ElasticDeformation(border="wrap")
    with pytest.raises(TypeError, match="callables"):
        JT.Compose([3])
    for moving in (T.RandomCrop(8), T.RandomHorizontalFlip(), T.Resize(8)):
        with pytest.raises(TypeError, match="joint transform"):
            JT.Compose([moving])
