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


def test_unet_batch_norm_option():
    plain = segmentation.unet(in_channels=3, num_classes=11, base_channels=16, padding=True)
    normed = segmentation.unet(in_channels=3, num_classes=11, base_channels=16, padding=True,
                               batch_norm=True)
    # each of the 18 3x3 convolutions trades its bias (C_out) for a BatchNorm (2 C_out);
    # their output widths add up to 2 (16 + 32 + 64 + 128) * 2 + 2 * 256 = 1472
    assert count(normed) - count(plain) == 1472
    assert isinstance(normed.encoders[0][1], mt.nn.BatchNorm2d) and normed.encoders[0][0].bias is None
    assert normed(mt.randn(2, 3, 20, 24)).shape == (2, 11, 20, 24)


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
    by_hand = tiled.unet(padded).detach().numpy()[:, :, :100, :107]
    np.testing.assert_allclose(out.detach().numpy(), by_hand)
    small = mt.randn(1, 1, 5, 3)  # mirrored several times over
    assert tiled(small).shape == (1, 2, 5, 3)


def test_unet_init_is_the_papers(paper_unet):
    model = paper_unet
    conv = model.encoders[1][0]  # 64 -> 128, 3x3: N = 9 * 64
    assert conv.weight.detach().numpy().std() == pytest.approx(np.sqrt(2 / (9 * 64)), rel=0.02)
    up = model.upconvs[3]  # 1024 -> 512, 2x2 stride 2: N = 1024
    assert up.weight.detach().numpy().std() == pytest.approx(np.sqrt(2 / 1024), rel=0.02)
    assert not model.encoders[0][0].bias.detach().numpy().any()


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


# ------------------------------------------------------- FCN-32s/16s/8s (VGG-16)
FCN_COUNTS = {"fcn32s": 134_346_581, "fcn16s": 134_357_354, "fcn8s": 134_362_751}


@pytest.fixture(scope="module")
def fcn8s():
    mt.manual_seed(0)
    return models.get_model("fcn8s").eval()


def test_fcn8s_count_buffers_and_any_input_size(fcn8s):
    assert count(fcn8s) == FCN_COUNTS["fcn8s"]
    # the bilinear filters are fixed: buffers, not parameters, and not in the state_dict
    assert {name for name, _ in fcn8s.named_buffers()} == {
        "upscore2.weight", "upscore_pool4.weight", "upscore.weight"}
    assert not any("upscore" in key for key in fcn8s.state_dict())
    assert all(m.ceil_mode for m in fcn8s.features if isinstance(m, mt.nn.MaxPool2d))
    with mt.no_grad():
        for size in ((1, 1), (17, 40), (32, 33)):  # the crops stay inside the score maps
            assert fcn8s(mt.randn(1, 3, *size)).shape == (1, 21) + size


@pytest.mark.parametrize("name", ["fcn32s", "fcn16s"])
def test_fcn32s_and_16s(name):
    model = models.get_model(name, num_classes=21).eval()
    assert count(model) == FCN_COUNTS[name]
    with mt.no_grad():
        assert model(mt.randn(1, 3, 13, 29)).shape == (1, 21, 13, 29)


def test_bilinear_upsampling_interpolates():
    up = segmentation.BilinearUpsampling(channels=2, factor=2)
    x = mt.tensor(np.arange(2 * 3 * 3, dtype=np.float32).reshape(1, 2, 3, 3))
    y = up(x).numpy()
    assert y.shape == (1, 2, 8, 8)  # (H - 1) * 2 + 4
    # away from the borders, a linear ramp stays a linear ramp at half the step
    np.testing.assert_allclose(np.diff(y[0, 0, 3, 2:6]), 0.5, rtol=1e-6)
    np.testing.assert_allclose(segmentation.fcn.bilinear_kernel(4)[:, 0],
                               [0.0625, 0.1875, 0.1875, 0.0625])


def test_fcn_training_step_reaches_the_score_layers(fcn8s):
    """The score layers (the parts the FCN adds) learn through the fixed upsamplings;
    the VGG-16 part is frozen to keep the test short."""
    for name, parameter in fcn8s.named_parameters():
        parameter.requires_grad_(name.startswith("score"))
    images = mt.randn(2, 3, 24, 24)
    target = (images[:, 0] > 0).long()
    try:
        optimizer = optim.SGD([p for p in fcn8s.parameters() if p.requires_grad], lr=1e-3)
        before = segmentation_loss(fcn8s(images), target)
        optimizer.zero_grad()
        before.backward()
        optimizer.step()
        after = segmentation_loss(fcn8s(images), target)
    finally:
        for parameter in fcn8s.parameters():
            parameter.requires_grad_(True)
        for name in ("score_fr", "score_pool4", "score_pool3"):  # back to the paper's zeros
            mt.nn.init.zeros_(getattr(fcn8s, name).weight)
            mt.nn.init.zeros_(getattr(fcn8s, name).bias)
    assert before.item() == pytest.approx(np.log(21), rel=1e-6)  # zero scores: uniform
    assert after.item() < before.item()
    assert fcn8s.score_pool3.weight.grad is not None


def test_convolutionalize_turns_fc6_into_a_7x7_convolution(fcn8s):
    """A VGG-16 classifier's fc6 on a flattened 7x7x512 map equals the FCN's fc6 on the
    map after ``convolutionalize_``. The stand-in for vgg16() holds the FCN's own
    features and, as its classifier, the FCN's fc layers flattened with their rows
    reversed (other values than the FCN's, without drawing 120M random numbers)."""
    own = fcn8s.state_dict()
    saved = {key: own[key] for key in ("fc6.weight", "fc6.bias", "fc7.weight", "fc7.bias")}

    class VGGStandIn:
        def state_dict(self):
            state = {key: value for key, value in own.items() if key.startswith("features.")}
            for fc, linear in (("fc6", "classifier.0"), ("fc7", "classifier.3")):
                state[f"{linear}.weight"] = mt.tensor(
                    saved[f"{fc}.weight"].numpy().reshape(4096, -1)[::-1].copy())
                state[f"{linear}.bias"] = mt.tensor(saved[f"{fc}.bias"].numpy()[::-1].copy())
            return state

    vgg = VGGStandIn().state_dict()
    try:
        segmentation.convolutionalize_(fcn8s, VGGStandIn())
        pool5 = mt.randn(1, 512, 7, 7)
        with mt.no_grad():
            as_conv = fcn8s.fc6(pool5).numpy().reshape(-1)
            as_linear = F.linear(pool5.reshape(1, -1), vgg["classifier.0.weight"],
                                 vgg["classifier.0.bias"]).numpy().reshape(-1)
        np.testing.assert_allclose(as_conv, as_linear, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(fcn8s.fc7.weight.detach().numpy()[:, :, 0, 0],
                                      vgg["classifier.3.weight"].numpy())
    finally:
        fcn8s.load_state_dict({**own, **saved})


# --------------------------------------- torchvision's FCN and DeepLabv3 (ResNet)
@pytest.mark.parametrize("name, aux_loss, expected", [
    ("fcn_resnet50", None, 32_957_013), ("fcn_resnet50", True, 35_322_218),
    ("fcn_resnet101", True, 54_314_346), ("deeplabv3_resnet50", None, 39_638_869),
    ("deeplabv3_resnet101", True, 60_996_202),
])
def test_torchvision_counts(name, aux_loss, expected):
    """torchvision's figures (its weights' num_params where they have the aux head)."""
    model = models.get_model(name, aux_loss=aux_loss)
    assert count(model) == expected
    keys = list(model.state_dict())
    assert keys[0] == "backbone.conv1.weight" and "backbone.fc.weight" not in keys
    assert any(key.startswith("aux_classifier.") for key in keys) == bool(aux_loss)


@pytest.fixture(scope="module")
def deeplab():
    mt.manual_seed(0)
    return models.get_model("deeplabv3_resnet50", num_classes=5, aux_loss=True)


def test_deeplabv3_outputs_and_output_stride(deeplab):
    deeplab.eval()
    features = deeplab.backbone(mt.randn(1, 3, 33, 47))
    assert features["out"].shape == (1, 2048, 5, 6)  # output stride 8
    assert features["aux"].shape == (1, 1024, 5, 6)
    output = deeplab(mt.randn(2, 3, 33, 47))
    assert list(output) == ["out", "aux"]
    assert output["out"].shape == output["aux"].shape == (2, 5, 33, 47)
    assert [conv[0].dilation for conv in deeplab.classifier[0].convs[1:4]] == \
        [(12, 12), (24, 24), (36, 36)]


def test_one_training_step_reduces_the_deeplabv3_loss(deeplab):
    images = mt.randn(2, 3, 24, 24)
    target = (images[:, 0] > 0).long()
    deeplab.train()
    falls, losses = loss_falls(deeplab, images, target, steps=2, lr=1e-3)
    assert falls, losses


def test_bad_weights_arguments():
    with pytest.raises(ValueError, match="weights"):
        models.get_model("fcn_resnet50", weights="COCO_WITH_VOC_LABELS_V1")
    with pytest.raises(TypeError):
        models.get_model("deeplabv3_resnet50", width=3)


# ------------------------------------------------------------- DeepLabv3+
def test_deeplabv3plus_count_by_parts_and_strides():
    mt.manual_seed(0)
    model = models.get_model("deeplabv3plus_resnet50", num_classes=21)
    backbone = 25_557_032 - (2048 * 1000 + 1000)  # torchvision's resnet50 without fc
    separable = 2048 * 9 + 2 * 2048 + 2048 * 256 + 2 * 256  # depthwise, BN, pointwise, BN
    aspp = 2 * (2048 * 256 + 2 * 256) + 3 * separable + (5 * 256 * 256 + 2 * 256)
    decoder = ((256 * 48 + 2 * 48)
               + (304 * 9 + 2 * 304 + 304 * 256 + 2 * 256)
               + (256 * 9 + 2 * 256 + 256 * 256 + 2 * 256)
               + (256 * 21 + 21))
    assert count(model) == backbone + aspp + decoder == 26_696_133
    assert model.aspp.convs[1][0].groups == 2048 and model.aspp.convs[1][0].dilation == (6, 6)
    model.eval()
    features = model.backbone(mt.randn(1, 3, 64, 64))
    assert features["low_level"].shape == (1, 256, 16, 16) and features["out"].shape[2:] == (4, 4)
    assert model(mt.randn(1, 3, 35, 41))["out"].shape == (1, 21, 35, 41)
    stride8 = models.get_model("deeplabv3plus_resnet50", num_classes=3, output_stride=8)
    assert stride8.aspp.convs[3][0].dilation == (36, 36)
    assert stride8.backbone(mt.randn(1, 3, 64, 64))["out"].shape[2:] == (8, 8)
    images = mt.randn(2, 3, 32, 32)
    falls, losses = loss_falls(stride8.train(), images, (images[:, 1] > 0).long(), steps=3,
                               lr=1e-3)
    assert falls, losses
    with pytest.raises(ValueError, match="output_stride"):
        models.get_model("deeplabv3plus_resnet50", output_stride=32)


# ------------------------------------------------------------- hypercolumns
def test_hypercolumn_vgg16():
    mt.manual_seed(0)
    model = models.get_model("hypercolumn_vgg16", num_classes=21)
    assert count(model) == 14_714_688 + 1408 * 21 + 21
    columns = model.hypercolumns(mt.randn(1, 3, 30, 42))
    assert columns.shape == (1, 128 + 256 + 512 + 512, 8, 11)  # ceil(30 / 4), ceil(42 / 4)
    assert model(mt.randn(1, 3, 30, 42)).shape == (1, 21, 30, 42)
    small = models.get_model("hypercolumn_vgg16", num_classes=2, layers=("conv3_3", "conv2_2"),
                             stride=2)
    assert small.layers == ("conv2_2", "conv3_3") and len(small.features) == 16
    images = mt.randn(2, 3, 16, 16)
    falls, losses = loss_falls(small, images, (images[:, 0] > 0).long(), steps=3, lr=1e-3)
    assert falls, losses
    with pytest.raises(ValueError, match="layers"):
        models.get_model("hypercolumn_vgg16", layers=("fc7",))
