"""The U-Net weight map: connected cells, the two nearest cells, and the formula, each
against a brute-force definition."""
import math

import numpy as np
import pytest

from minitorch_cv.data.weight_maps import (
    balanced_class_weights,
    connected_components,
    median_frequency_weights,
    two_nearest_cell_distances,
    unet_weight_map,
)


def flood_fill_components(mask):
    """Reference: label 4-connected components by breadth-first search, numbered in
    row-major order of their first pixel."""
    H, W = mask.shape
    labels = np.zeros((H, W), np.int32)
    count = 0
    for y in range(H):
        for x in range(W):
            if mask[y, x] and not labels[y, x]:
                count += 1
                labels[y, x] = count
                queue = [(y, x)]
                while queue:
                    cy, cx = queue.pop()
                    for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                        if 0 <= ny < H and 0 <= nx < W and mask[ny, nx] and not labels[ny, nx]:
                            labels[ny, nx] = count
                            queue.append((ny, nx))
    return labels, count


def brute_force_distances(labels, max_distance):
    """Reference: for each background pixel, the distance to every cell, sorted."""
    H, W = labels.shape
    d1, d2 = np.full((H, W), np.inf), np.full((H, W), np.inf)
    cells = [np.argwhere(labels == c) for c in range(1, labels.max() + 1)]
    for y, x in np.argwhere(labels == 0):
        distances = sorted(np.sqrt(((pixels - (y, x)) ** 2).sum(axis=1)).min() for pixels in cells)
        distances = [d for d in distances if d <= max_distance] + [np.inf, np.inf]
        d1[y, x], d2[y, x] = distances[0], distances[1]
    return d1, d2


@pytest.mark.parametrize("seed", range(6))
def test_connected_components_match_a_flood_fill(seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((17, 23)) < [0.3, 0.5, 0.6, 0.7, 0.55, 0.45][seed]
    labels, count = connected_components(mask)
    expected, expected_count = flood_fill_components(mask)
    assert count == expected_count
    np.testing.assert_array_equal(labels, expected)


def test_connected_components_u_shape_keeps_first_pixel_order():
    mask = np.array([[1, 0, 1, 0, 1],
                     [1, 0, 1, 0, 0],
                     [1, 1, 1, 0, 0]], bool)  # the two arms of a U join at the bottom
    labels, count = connected_components(mask)
    assert count == 2
    assert labels[0].tolist() == [1, 0, 1, 0, 2]
    assert connected_components(np.zeros((3, 4), bool))[1] == 0


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_distance", [3.0, 30.0])
def test_two_nearest_cells_match_brute_force(seed, max_distance):
    rng = np.random.default_rng(seed)
    labels, _ = connected_components(rng.random((14, 19)) < 0.35)
    d1, d2 = two_nearest_cell_distances(labels, max_distance)
    expected_d1, expected_d2 = brute_force_distances(labels, max_distance)
    np.testing.assert_allclose(d1, expected_d1)
    np.testing.assert_allclose(d2, expected_d2)


def test_weight_map_by_hand():
    # two cells (ids 1) at columns 0-1 and 5-6 of one row, membrane (0) between them
    mask = np.array([[1, 1, 0, 0, 0, 1, 1]])
    weights = unet_weight_map(mask, w0=10.0, sigma=5.0)
    class_weight = balanced_class_weights(mask, 2)
    assert class_weight.tolist() == pytest.approx([7 / 6, 7 / 8])  # N / (K count_k)
    border = {2: 10 * math.exp(-(1 + 3) ** 2 / 50), 3: 10 * math.exp(-(2 + 2) ** 2 / 50),
              4: 10 * math.exp(-(3 + 1) ** 2 / 50)}
    expected = [7 / 8, 7 / 8] + [7 / 6 + border[x] for x in (2, 3, 4)] + [7 / 8, 7 / 8]
    np.testing.assert_allclose(weights[0], expected, rtol=1e-6)
    assert weights.dtype == np.float32


def test_weight_map_with_one_cell_has_no_border_term():
    mask = np.zeros((5, 5), np.int64)
    mask[1:3, 1:3] = 1
    weights = unet_weight_map(mask, class_weights=[1.0, 2.0])
    np.testing.assert_allclose(weights, np.where(mask == 1, 2.0, 1.0))


def test_weight_map_bad_input():
    with pytest.raises(ValueError, match="label map"):
        unet_weight_map(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="class_weights"):
        unet_weight_map(np.array([[0, 2]]), class_weights=[1.0, 1.0])


def test_median_frequency_weights_by_hand():
    masks = np.array([[[0, 0, 0, 1]], [[0, 1, 3, 3]]])  # 3 classes; 3 is the ignore id
    # class 0: 4 pixels in images of 4 + 2 labelled pixels; class 1: 2 in 6; class 2 absent
    weights = median_frequency_weights(masks, 3)
    frequency = np.array([4 / 6, 2 / 6])
    np.testing.assert_allclose(weights[:2], np.median(frequency) / frequency)
    assert weights[2] == 0
