"""Segmentation models: parameter counts to the unit, output shapes at small inputs,
one training step per family, and the losses they train with."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, optim
from minitorch_cv.gradcheck import check_backward
from minitorch_cv.models import segmentation
from minitorch_cv.models.segmentation import (
    OverlapTile,
    pixel_weighted_cross_entropy,
    segmentation_loss,
)
from minitorch_cv.nn import functional as F


def count(model):
    return sum(p.numel() for p in model.parameters())


def loss_falls(model, images, target, steps=4, lr=1e-2):
    """Adam steps on one batch: the loss after them is below the loss before."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps + 1):
        loss = segmentation_loss(model(images), target)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses[-1] < losses[0], losses


# ------------------------------------------------------------------------- U-Net
@pytest.fixture(scope="module")
def paper_unet():
    mt.manual_seed(0)
    return models.get_model("unet", in_channels=1, num_classes=2)


def test_unet_has_the_papers_parameter_count(paper_unet):
    model = paper_unet
    assert count(model) == 31_030_658
    keys = list(model.state_dict())
    assert keys[:2] == ["encoders.0.0.weight", "encoders.0.0.bias"]
    assert "upconvs.3.weight" in keys and keys[-1] == "classifier.bias"


@pytest.mark.parametrize("base, padding, expected", [(16, True, 1_940_834), (4, False, 121_658)])
def test_unet_widths(base, padding, expected):
    # widths scale with base_channels: the count is sum over layers of (9 C_in + 1) C_out...
    assert count(segmentation.unet(in_channels=1, num_classes=2, base_channels=base,
                                   padding=padding)) == expected


def test_unet_unpadded_loses_92_pixels_each_side():
    mt.manual_seed(0)
    model = segmentation.unet(in_channels=3, num_classes=5, base_channels=2)
    assert model.margin == 92
    assert model(mt.randn(2, 3, 188, 204)).shape == (2, 5, 4, 20)  # 16k + 12 sizes
    with pytest.raises(ValueError, match="16k \\+ 12"):
        model(mt.randn(1, 3, 190, 188))


def test_unet_padded_keeps_any_size():
    mt.manual_seed(0)
    model = segmentation.unet(in_channels=1, num_classes=3, base_channels=2, padding=True)
    for size in ((32, 48), (45, 37), (17, 23)):
        assert model(mt.randn(1, 1, *size)).shape == (1, 3) + size


def test_overlap_tile_predicts_whole_images_with_the_unpadded_unet():
    mt.manual_seed(0)
    tiled = OverlapTile(segmentation.unet(in_channels=1, num_classes=2, base_channels=2)).eval()
    x = mt.randn(1, 1, 100, 107)
    out = tiled(x)
    assert out.shape == (1, 2, 100, 107)
    # the same computation by hand: mirror 92 + (0..15) pixels, run, crop
    # 100 + 184 = 284 = 16 * 17 + 12 is valid; 107 + 184 + 9 = 300 = 16 * 18 + 12
    padded = F.pad(x, (92, 92 + 9, 92, 92), mode="reflect")
    np.testing.assert_allclose(out.numpy(), tiled.unet(padded).numpy()[:, :, :100, :107])
    small = mt.randn(1, 1, 5, 3)  # mirrored several times over
    assert tiled(small).shape == (1, 2, 5, 3)


def test_unet_init_is_the_papers(paper_unet):
    model = paper_unet
    conv = model.encoders[1][0]  # 64 -> 128, 3x3: N = 9 * 64
    assert conv.weight.numpy().std() == pytest.approx(np.sqrt(2 / (9 * 64)), rel=0.02)
    up = model.upconvs[3]  # 1024 -> 512, 2x2 stride 2: N = 1024
    assert up.weight.numpy().std() == pytest.approx(np.sqrt(2 / 1024), rel=0.02)
    assert not model.encoders[0][0].bias.numpy().any()


def test_one_training_step_reduces_the_unet_loss():
    mt.manual_seed(0)
    model = segmentation.unet(in_channels=1, num_classes=2, base_channels=4, padding=True,
                              dropout=0.0)
    images = mt.randn(2, 1, 32, 32)
    target = (images[:, 0] > 0).long()
    falls, losses = loss_falls(model, images, target)
    assert falls, losses


def test_segmentation_models_are_registered():
    names = models.list_models(module=segmentation)
    assert "unet" in names and "resnet20" not in names
    assert set(names) <= set(models.list_models())


# --------------------------------------------------------------------------- losses
def test_pixel_weights_of_one_are_cross_entropy():
    x = mt.randn(2, 4, 3, 5, dtype=mt.float64)
    target = mt.randint(0, 4, (2, 3, 5))
    target.array[0, 1, 2] = 255
    weight = mt.tensor([0.5, 1.0, 2.0, 3.0], dtype=mt.float64)
    ones = mt.ones(2, 3, 5, dtype=mt.float64)
    for reduction in ("mean", "sum", "none"):
        ours = pixel_weighted_cross_entropy(x, target, ones, weight, 255, reduction)
        plain = F.cross_entropy(x, target, weight=weight, ignore_index=255, reduction=reduction)
        np.testing.assert_allclose(ours.numpy(), plain.numpy(), rtol=1e-12)


def test_pixel_weighted_cross_entropy_by_definition():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 4))
    target = rng.integers(0, 3, (2, 4, 4))
    target[1, 0, 0] = -100
    pixel = rng.random((2, 4, 4)) + 0.5
    log_p = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    picked = np.take_along_axis(log_p, np.where(target < 0, 0, target)[:, None], 1)[:, 0]
    kept = target != -100
    expected = -(pixel * picked)[kept].sum() / pixel[kept].sum()
    ours = pixel_weighted_cross_entropy(mt.tensor(x), mt.tensor(target), mt.tensor(pixel))
    assert ours.item() == pytest.approx(expected, rel=1e-12)


def test_pixel_weighted_cross_entropy_gradient():
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((2, 3, 3, 4)), requires_grad=True)
    target = mt.tensor(rng.integers(0, 3, (2, 3, 4)))
    pixel = mt.tensor(rng.random((2, 3, 4)) + 0.1)
    weight = mt.tensor([1.0, 0.5, 2.0], dtype=mt.float64)
    check_backward(lambda logits: pixel_weighted_cross_entropy(logits, target, pixel, weight),
                   [x])


def test_auxiliary_loss_is_added_with_its_weight():
    out, aux = mt.randn(2, 3, 4, 4), mt.randn(2, 3, 4, 4)
    target = mt.randint(0, 3, (2, 4, 4))
    total = segmentation_loss({"out": out, "aux": aux}, target, aux_weight=0.5)
    expected = F.cross_entropy(out, target) + 0.5 * F.cross_entropy(aux, target)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    assert segmentation_loss({"out": out}, target).item() == \
        pytest.approx(F.cross_entropy(out, target).item())


def test_pixel_weight_must_match_the_target():
    x, target = mt.randn(1, 2, 3, 3), mt.randint(0, 2, (1, 3, 3))
    with pytest.raises(ValueError, match="pixel_weight"):
        pixel_weighted_cross_entropy(x, target, mt.ones(1, 3, 4))
    with pytest.raises(TypeError, match="dtype"):
        pixel_weighted_cross_entropy(x, target, mt.ones(1, 3, 3, dtype=mt.float64))
