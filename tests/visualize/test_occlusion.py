"""occlusion_map on a model whose output depends on one block of pixels: the map changes
exactly at the occluder positions that cover part of the block, and the feature map's
total activation drops by exactly the covered pixels."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv import visualize as V

H, W = 12, 10
BLOCK_ROWS, BLOCK_COLUMNS = range(3, 6), range(4, 7)  # a 3 x 3 block


@pytest.fixture(scope="module")
def block_model():
    """conv: the sum of the block (a full-image kernel, 1 on the block, 0 elsewhere) ->
    Flatten -> Linear to two scores (0.2 s, -0.2 s): P(class 0) = sigmoid(0.4 s)."""
    conv = nn.Conv2d(1, 1, (H, W), bias=False, dtype=mt.float64)
    linear = nn.Linear(1, 2, bias=False, dtype=mt.float64)
    kernel = np.zeros((1, 1, H, W))
    kernel[0, 0, 3:6, 4:7] = 1
    with mt.no_grad():
        conv.weight.copy_(mt.tensor(kernel))
        linear.weight.copy_(mt.tensor([[0.2], [-0.2]], dtype=mt.float64))
    return nn.Sequential(conv, nn.Flatten(), linear)


def covered(top, left, PH, PW):
    """Pixels of the block under a PH x PW patch at (top, left)."""
    rows = len(set(range(top, top + PH)) & set(BLOCK_ROWS))
    columns = len(set(range(left, left + PW)) & set(BLOCK_COLUMNS))
    return rows * columns


@pytest.mark.parametrize("patch, stride", [(2, 1), ((3, 2), (2, 3)), (4, 4)])
def test_the_map_lights_up_exactly_where_the_patch_covers_the_block(block_model, patch, stride):
    x = mt.ones(1, 1, H, W, dtype=mt.float64)
    result = V.occlusion_map(block_model, x, target=0, patch=patch, stride=stride, layer="0", channel=0,
                             batch_size=7)
    (PH, PW), (SH, SW) = [p if isinstance(p, tuple) else (p, p) for p in (patch, stride)]
    OH, OW = (H - PH) // SH + 1, (W - PW) // SW + 1
    expected_covered = np.array([[covered(i * SH, j * SW, PH, PW) for j in range(OW)] for i in range(OH)])
    assert result.probability.shape == (OH, OW)
    assert expected_covered.any() and not expected_covered.all()  # the test sees both cases

    # The total activation is the block's sum: 9 minus the covered pixels (fill 0).
    np.testing.assert_array_equal(result.activation, 9 - expected_covered)
    np.testing.assert_allclose(result.probability, 1 / (1 + np.exp(-0.4 * (9 - expected_covered))), rtol=1e-12)
    unchanged = result.probability == result.unoccluded_probability
    np.testing.assert_array_equal(unchanged, expected_covered == 0)
    assert (result.label == 0).all()  # a positive block sum keeps class 0 ahead
    assert result.channel == 0


def test_the_fill_value_and_the_default_channel(block_model):
    x = mt.ones(1, H, W, dtype=mt.float64)  # unbatched
    result = V.occlusion_map(block_model, x, target=1, patch=3, stride=3, fill=-1.0, layer="0")
    assert result.channel == 0  # the only channel, and the strongest
    # Covered block pixels turn from 1 to -1; where the sum goes negative, class 1 wins.
    expected = np.array([[9 - 2 * covered(3 * i, 3 * j, 3, 3) for j in range(3)] for i in range(4)])
    np.testing.assert_array_equal(result.activation, expected)
    np.testing.assert_array_equal(result.label, (expected < 0).astype(int))
    assert (expected < 0).any()


def test_bad_arguments(block_model):
    x = mt.ones(1, 1, H, W, dtype=mt.float64)
    with pytest.raises(ValueError, match="patch: expected at most the image size"):
        V.occlusion_map(block_model, x, 0, patch=13, stride=1)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        V.occlusion_map(block_model, x, 0, patch=2, stride=0)
    with pytest.raises(ValueError, match=r"target: expected a class in \[0, 2\)"):
        V.occlusion_map(block_model, x, 2, patch=2, stride=2)
    with pytest.raises(ValueError, match="x: expected one image"):
        V.occlusion_map(block_model, mt.ones(2, 1, H, W, dtype=mt.float64), 0, patch=2, stride=2)
