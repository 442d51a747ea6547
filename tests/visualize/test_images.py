"""Display images: scaling modes, grids, filters, feature maps, and PNG files that read
back pixel for pixel."""
import sys

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv import visualize as V


def test_to_image_scaling_modes_and_layouts():
    np.testing.assert_array_equal(V.to_image(np.array([[0, 51], [255, 102]], dtype=np.uint8)),
                                  [[0, 0.2], [1, 0.4]])
    np.testing.assert_allclose(V.to_image(np.array([[-1.0, 1.0], [3.0, 0.0]])), [[0, 0.5], [1, 0.25]])
    np.testing.assert_allclose(V.to_image(np.array([[-2.0, 0.0, 1.0]]), "symmetric"), [[0, 0.5, 0.75]])
    np.testing.assert_array_equal(V.to_image(np.full((2, 2), 3.0)), np.zeros((2, 2)))
    np.testing.assert_array_equal(V.to_image(np.zeros((2, 2)), "symmetric"), np.full((2, 2), 0.5))
    rgb = np.arange(12.0).reshape(3, 2, 2)
    assert V.to_image(rgb).shape == (2, 2, 3) and V.to_image(rgb[:1]).shape == (2, 2)
    np.testing.assert_allclose(V.to_image(mt.tensor(rgb))[..., 2], (rgb[2] - 0) / 11)
    with pytest.raises(ValueError, match="expected 1 or 3 channels"):
        V.to_image(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="mode: expected one of"):
        V.to_image(np.zeros((4, 4)), "log")


def test_make_grid_places_the_tiles_row_by_row():
    tiles = [np.full((2, 3), value) for value in (0.1, 0.2, 0.3, 0.4, 0.5)]
    grid = V.make_grid(tiles, nrow=2, padding=1, pad_value=1.0)
    assert grid.shape == (3 * 3 + 1, 2 * 4 + 1)
    for i, value in enumerate((0.1, 0.2, 0.3, 0.4, 0.5)):
        top, left = 1 + (i // 2) * 3, 1 + (i % 2) * 4
        np.testing.assert_array_equal(grid[top : top + 2, left : left + 3], value)
    np.testing.assert_array_equal(grid[7:9, 5:8], 1.0)  # the empty sixth place
    assert grid[0].tolist() == [1.0] * 9


def test_filter_grid_colour_gray_and_per_channel_layouts():
    weight = np.zeros((2, 3, 1, 2))
    weight[0, :, 0, 0], weight[1, 0, 0, 1] = [2, -2, 1], 0.5
    grid = V.filter_grid(weight, nrow=8, padding=0)
    assert grid.shape == (1, 4, 3)
    np.testing.assert_allclose(grid[0, 0], [1, 0, 0.75])  # each filter on its own scale
    np.testing.assert_allclose(grid[0, 3], [1, 0.5, 0.5])
    shared = V.filter_grid(weight, padding=0, scale_each=False)
    np.testing.assert_allclose(shared[0, 3], [0.625, 0.5, 0.5])  # 0.5 of the largest |w| = 2
    conv = nn.Conv2d(4, 5, (2, 3))
    assert V.filter_grid(conv, padding=1).shape == (5 * 3 + 1, 4 * 4 + 1)  # 5 rows of 4 gray tiles
    with pytest.raises(ValueError, match=r"conv_weight: expected a \(K, C, KH, KW\)"):
        V.filter_grid(np.zeros((3, 3)))


def test_feature_maps_one_tile_per_channel():
    conv = nn.Conv2d(1, 3, 1, bias=False, dtype=mt.float64)
    with mt.no_grad():
        conv.weight.copy_(mt.tensor([[[[1.0]]], [[[-1.0]]], [[[0.0]]]]))
    model = nn.Sequential(conv, nn.ReLU())
    x = mt.tensor(np.arange(6.0).reshape(1, 2, 3))
    grid = V.feature_maps(model, x, "1", padding=1)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1)  # ceil(sqrt(3)) = 2 per row
    np.testing.assert_allclose(grid[1:3, 1:4], np.arange(6.0).reshape(2, 3) / 5)
    np.testing.assert_array_equal(grid[1:3, 5:8], 0)  # relu(-x): all zero, black
    with pytest.raises(ValueError, match="x: expected one image"):
        V.feature_maps(model, mt.zeros(2, 1, 2, 3, dtype=mt.float64), "1")


def test_save_png_writes_the_pixels_and_leaves_no_temporary_file(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    image = np.random.default_rng(0).random((5, 7, 3))
    path = V.save_png(tmp_path / "picture.png", image, scale=2)
    read = np.asarray(Image.open(path))
    assert read.shape == (10, 14, 3)
    np.testing.assert_array_equal(read[::2, ::2], np.round(image * 255).astype(np.uint8))
    np.testing.assert_array_equal(read[1::2, 1::2], read[::2, ::2])
    V.save_png(tmp_path / "gray.png", np.array([[0.0, 2.0], [-1.0, 0.5]]))
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "gray.png")), [[0, 255], [0, 128]])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gray.png", "picture.png"]


def test_save_png_without_pillow_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # "import PIL" now raises ImportError
    with pytest.raises(ImportError, match="save_png needs Pillow: pip install pillow"):
        V.save_png(tmp_path / "x.png", np.zeros((2, 2)))
