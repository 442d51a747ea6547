"""torchvision's ResNet family (resnet.py): its module tree and state_dict keys, the
arguments torchvision's constructor takes (groups, width_per_group,
replace_stride_with_dilation, zero_init_residual, norm_layer), initialization, errors,
and one training step. Counts and shapes of every builder: test_zoo.py."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn
from tests.models.test_resnet_params import torchvision_resnet18_keys
from tests.models.training import loss_before_and_after_one_step


@pytest.fixture(scope="module")
def resnet50():
    mt.manual_seed(0)
    return models.resnet50()


def test_resnet18_state_dict_is_torchvision_s():
    state = models.resnet18().state_dict()
    assert list(state) == torchvision_resnet18_keys()
    assert state["conv1.weight"].shape == (64, 3, 7, 7)
    assert state["fc.weight"].shape == (1000, 512)


def test_module_tree_order_is_torchvision_s(resnet50):
    assert [name for name, _ in resnet50.named_children()] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    assert [name for name, _ in resnet50.layer1[0].named_children()] == [
        "conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "relu", "downsample"]
    assert resnet50.maxpool.kernel_size == 3 and resnet50.maxpool.padding == 1


def test_stage_shapes_at_224_are_the_paper_s():
    # layer sizes from table 1 of He et al. 2015: 56, 28, 14, 7 (on a small model, same stem)
    mt.manual_seed(0)
    model = models.ResNet(models.BasicBlock, [1, 1, 1, 1], num_classes=5)
    shapes = {}
    for name in ("maxpool", "layer1", "layer2", "layer3", "layer4"):
        getattr(model, name).register_forward_hook(
            lambda m, args, out, name=name: shapes.__setitem__(name, out.shape))
    with mt.no_grad():
        assert model(mt.randn(1, 3, 224, 224)).shape == (1, 5)
    assert shapes == {"maxpool": (1, 64, 56, 56), "layer1": (1, 64, 56, 56),
                      "layer2": (1, 128, 28, 28), "layer3": (1, 256, 14, 14),
                      "layer4": (1, 512, 7, 7)}


def test_bottleneck_widths_of_resnext_and_wide_resnet():
    mt.manual_seed(0)
    resnext = models.resnext50_32x4d()
    conv2 = resnext.layer1[0].conv2  # width = int(64 * 4 / 64) * 32 = 128, in 32 groups
    assert conv2.groups == 32 and conv2.weight.shape == (128, 4, 3, 3)
    assert resnext.layer4[0].conv2.weight.shape == (1024, 32, 3, 3)
    assert resnext.layer1[0].conv3.weight.shape == (256, 128, 1, 1)
    wide = models.wide_resnet50_2()
    assert wide.layer1[0].conv1.weight.shape == (128, 64, 1, 1)  # twice resnet50's 64
    assert wide.layer4[2].conv3.weight.shape == (2048, 1024, 1, 1)


def test_replace_stride_with_dilation_keeps_the_resolution(resnet50):
    mt.manual_seed(0)
    dilated = models.resnet50(replace_stride_with_dilation=[False, True, True])
    assert dilated.state_dict().keys() == resnet50.state_dict().keys()
    # layer3's first block keeps the old dilation (1), the rest use 2; layer4 2 then 4
    for block, dilation in [(dilated.layer3[0], 1), (dilated.layer3[1], 2),
                            (dilated.layer4[0], 2), (dilated.layer4[2], 4)]:
        assert block.conv2.dilation == (dilation, dilation)
        assert block.conv2.padding == (dilation, dilation)
        assert block.conv2.stride == (1, 1)
    assert dilated.layer3[0].downsample[0].stride == (1, 1)
    assert dilated.layer2[0].conv2.stride == (2, 2)
    features = {}
    dilated.layer4.register_forward_hook(lambda m, a, out: features.__setitem__("out", out.shape))
    dilated.eval()
    with mt.no_grad():
        assert dilated(mt.randn(1, 3, 64, 64)).shape == (1, 1000)
    assert features["out"] == (1, 2048, 8, 8)  # output stride 8 instead of 32


def test_zero_init_residual_zeroes_the_last_norm_of_every_block():
    mt.manual_seed(0)
    basic = models.resnet18(zero_init_residual=True)
    bottleneck = models.resnext50_32x4d(zero_init_residual=True)
    for block in basic.modules():
        if isinstance(block, models.BasicBlock):
            np.testing.assert_array_equal(block.bn2.weight.detach().numpy(), 0)
            np.testing.assert_array_equal(block.bn1.weight.detach().numpy(), 1)
    blocks = [b for b in bottleneck.modules() if isinstance(b, models.Bottleneck)]
    assert len(blocks) == 16
    for block in blocks:
        np.testing.assert_array_equal(block.bn3.weight.detach().numpy(), 0)


def test_norm_layer_is_used_everywhere_and_initialized():
    mt.manual_seed(0)
    model = models.resnet18(norm_layer=lambda channels: nn.GroupNorm(8, channels))
    norms = [m for m in model.modules() if isinstance(m, nn.GroupNorm)]
    assert len(norms) == 20 and not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    for norm in norms:
        np.testing.assert_array_equal(norm.weight.detach().numpy(), 1)
        np.testing.assert_array_equal(norm.bias.detach().numpy(), 0)
    assert model(mt.randn(1, 3, 32, 32)).shape == (1, 1000)


def test_initialization_is_torchvision_s(resnet50):
    weight = resnet50.layer4[0].conv2.weight.detach().numpy()  # (512, 512, 3, 3)
    expected = math.sqrt(2.0 / (512 * 9))  # He normal, fan_out = K * KH * KW
    assert abs(weight.std() / expected - 1) < 0.01
    bound = 1 / math.sqrt(2048)  # fc: PyTorch's default U(-1/sqrt(in), 1/sqrt(in))
    fc = resnet50.fc.weight.detach().numpy()
    assert np.abs(fc).max() <= bound and np.abs(fc).max() > 0.99 * bound
    np.testing.assert_array_equal(resnet50.bn1.weight.detach().numpy(), 1)


def test_errors_of_the_constructor():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet34(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="replace_stride_with_dilation"):
        models.resnet50(replace_stride_with_dilation=[True, True])
    with pytest.raises(ValueError, match="'groups' expected value 32 but got 16"):
        models.resnext50_32x4d(groups=16)
    with pytest.raises(ValueError, match="weights: pretrained weights are not distributed"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(TypeError):
        models.resnet18(10)  # torchvision's builders take keyword arguments only
    # repeating a value the architecture fixes is allowed, as in torchvision
    assert models.resnext50_32x4d(groups=32, num_classes=3).fc.out_features == 3


def test_one_training_step_lowers_the_loss():
    mt.manual_seed(0)
    model = models.resnet18(num_classes=10)
    images, labels = mt.randn(4, 3, 32, 32), mt.tensor([1, 4, 7, 9])
    before, after = loss_before_and_after_one_step(model, images, labels, lr=0.05)
    assert after < 0.9 * before, (before, after)
