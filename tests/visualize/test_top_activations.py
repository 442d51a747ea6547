"""top_activations on a feature known in closed form, and receptive fields against the
published AlexNet figures."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv import visualize as V
from minitorch_cv.data import transforms as T
from minitorch_cv.visualize.recording import chain_to, run_recorded


def test_receptive_fields_of_alexnet_grow_as_published():
    """AlexNet's conv1 (11x11 stride 4, padding 2), pool1 (3x3 stride 2), conv2 (5x5,
    padding 2), pool2: receptive fields of 11, 19, 51 and 67 pixels."""
    model = nn.Sequential(nn.Conv2d(3, 2, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
                          nn.Conv2d(2, 2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2))
    x = mt.randn(1, 3, 67, 67)
    steps, _ = run_recorded(model, x)
    for last, size in ((0, 11), (2, 19), (4, 51), (5, 67)):
        chain = chain_to(steps, x, steps[last].output)
        top, left, bottom, right = V.receptive_field(chain, 1, 2)
        assert (bottom - top, right - left) == (size, size)
    # Position (1, 2) of pool2, rows: 2..4 of conv2 -> 0..6 of pool1 -> 0..14 of conv1 ->
    # pixels -2..64; columns: 4..6 -> 2..8 -> 4..18 -> pixels 14..80.
    assert V.receptive_field(chain, 1, 2) == (-2, 14, 65, 81)


@pytest.fixture(scope="module")
def box_sum_model():
    """conv: the sum of a 3x3 box (weights 1, no bias) -> ReLU -> 2x2 max pooling. On
    images of values in [0, 1] its largest activation is the largest 3x3 box sum."""
    conv = nn.Conv2d(1, 1, 3, bias=False, dtype=mt.float64)
    with mt.no_grad():
        conv.weight.copy_(mt.ones(1, 1, 3, 3, dtype=mt.float64))
    return nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2))


def test_the_strongest_images_their_patches_and_projections(box_sum_model):
    rng = np.random.default_rng(0)
    images = rng.random((30, 1, 10, 10))
    box_sums = np.array([[[image[0, i : i + 3, j : j + 3].sum() for j in range(8)] for i in range(8)]
                         for image in images])
    best = box_sums.reshape(30, -1).max(axis=1)
    result = V.top_activations(box_sum_model, images, "2", 0, k=5, batch_size=7)

    np.testing.assert_array_equal(result.indices, np.argsort(-best, kind="stable")[:5])
    np.testing.assert_allclose(result.activations, best[result.indices], rtol=1e-12)
    for n, index in enumerate(result.indices):
        row, column = result.positions[n]
        # Pooled position (row, column) sees conv rows 2row..2row+1, input rows 2row..2row+3.
        np.testing.assert_array_equal(result.boxes[n], [2 * row, 2 * column, 2 * row + 4, 2 * column + 4])
        i, j = np.unravel_index(box_sums[index].argmax(), (8, 8))
        assert (i // 2, j // 2) == (row, column)
        np.testing.assert_allclose(result.patches[n], V.to_image(images[index, 0, 2 * row : 2 * row + 4,
                                                                         2 * column : 2 * column + 4]))
        # The projection: the box sum spread back over its 3x3 box, zero elsewhere.
        expected = np.full((4, 4), 0.5)
        expected[i - 2 * row : i - 2 * row + 3, j - 2 * column : j - 2 * column + 3] = 1.0
        np.testing.assert_allclose(result.projections[n], expected)
    assert result.figure(nrow=3, padding=1, gap=4).shape == (2 * 5 + 1, 2 * (3 * 5 + 1) + 4)


def test_uint8_images_need_the_transform_to_the_models_input(box_sum_model):
    images = np.random.default_rng(1).integers(0, 256, (12, 1, 10, 10)).astype(np.uint8)
    with pytest.raises(TypeError, match="pass transform="):
        V.top_activations(box_sum_model, images, "2", 0, k=3)
    def to_float64(batch):  # pixels / 255 (Normalize with mean 0, std 1), in the model's dtype
        return T.Normalize((0.0,), (1.0,))(batch).astype(np.float64)

    result = V.top_activations(box_sum_model, images, "2", 0, k=3, transform=to_float64)
    assert result.patches.shape == (3, 4, 4) and result.patches.max() <= 1.0
    # Patches show the raw pixels (uint8 / 255), whatever the model's input is.
    row, column = result.positions[0]
    np.testing.assert_allclose(result.patches[0], images[result.indices[0], 0, 2 * row : 2 * row + 4,
                                                         2 * column : 2 * column + 4] / 255)
    with pytest.raises(ValueError, match=r"k: expected an int in \[1, 12\]"):
        V.top_activations(box_sum_model, images, "2", 0, k=13, transform=to_float64)


def test_a_box_past_the_border_is_blank_outside_the_image():
    """A 3x3 box sum with padding 2 on an image with one bright corner pixel: the first of
    the equal strongest outputs is (0, 0), whose box reaches two pixels past the corner."""
    conv = nn.Conv2d(1, 1, 3, padding=2, bias=False, dtype=mt.float64)
    with mt.no_grad():
        conv.weight.copy_(mt.ones(1, 1, 3, 3, dtype=mt.float64))
    images = np.zeros((1, 1, 5, 5))
    images[0, 0, 0, 0] = 1.0
    result = V.top_activations(nn.Sequential(conv), images, "0", 0, k=1)
    np.testing.assert_array_equal(result.boxes[0], [-2, -2, 1, 1])
    expected = np.zeros((3, 3))
    expected[2, 2] = 1.0  # the corner pixel; the rest of the box is outside the image
    np.testing.assert_array_equal(result.patches[0], expected)
