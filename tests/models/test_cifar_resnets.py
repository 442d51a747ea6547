"""The CIFAR residual variants: pre-activation ResNet-110/164, wide ResNets, stochastic
depth on the CIFAR ResNets, and the squeeze-and-excitation ResNets: parameter counts
from the papers' layer formulas, block structure, behaviour, one training step each."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn
from minitorch_cv.models.preact_resnet import PreActBlock, PreActBottleneck
from minitorch_cv.models.resnet_cifar import linear_decay
from minitorch_cv.models.se_resnet import SEBottleneck, SECifarBasicBlock
from tests.models.training import loss_before_and_after_one_step


def count(model):
    return sum(p.numel() for p in model.parameters())


def conv(c_in, c_out, k):
    return c_in * c_out * k * k  # no biases in these networks


def bn(c):
    return 2 * c


def preact_count(blocks, widths, stem, bottleneck, classes=10):
    """He et al. 2016: stem conv, then per block BN + conv in front of each convolution
    and a bare 1x1 projection where the shape changes, a final BN, the fc."""
    total = conv(3, stem, 3)
    c_in = stem
    for stage, width in enumerate(widths):
        for block in range(blocks):
            if bottleneck:
                c_out = 4 * width
                total += bn(c_in) + conv(c_in, width, 1) + bn(width) + conv(width, width, 3)
                total += bn(width) + conv(width, c_out, 1)
            else:
                c_out = width
                total += bn(c_in) + conv(c_in, width, 3) + bn(width) + conv(width, width, 3)
            stride = 2 if stage > 0 and block == 0 else 1
            if c_in != c_out or stride != 1:
                total += conv(c_in, c_out, 1)
            c_in = c_out
    return total + bn(c_in) + c_in * classes + classes


def se_count(channels, reduction=16):
    squeeze = max(1, channels // reduction)
    return channels * squeeze + squeeze + squeeze * channels + channels  # two 1x1 convs with bias


# ------------------------------------------------------------------ pre-activation
def test_preact_resnet_counts():
    assert count(models.preact_resnet164()) == preact_count(18, (16, 32, 64), 16, True) == 1_703_258
    assert count(models.preact_resnet110()) == preact_count(18, (16, 32, 64), 16, False)
    assert count(models.preact_resnet18()) == preact_count(2, (64, 128, 256, 512), 64, False)


def test_preact_resnet164_structure():
    mt.manual_seed(0)
    model = models.preact_resnet164()
    assert all(isinstance(block, PreActBottleneck) for stage in (model.layer1, model.layer2,
                                                                  model.layer3) for block in stage)
    assert len(model.layer1) == len(model.layer3) == 18
    first = model.layer1[0]
    assert first.downsample.weight.shape == (64, 16, 1, 1)  # 16 -> 4 x 16 at stride 1
    assert model.layer2[0].downsample.stride == (2, 2) and model.layer2[1].downsample is None
    assert model.layer3[0].conv2.stride == (2, 2)
    shapes = {}
    for name in ("layer1", "layer2", "layer3"):
        getattr(model, name).register_forward_hook(
            lambda m, a, out, name=name: shapes.__setitem__(name, out.shape))
    assert model(mt.randn(2, 3, 16, 16)).shape == (2, 10)
    assert shapes == {"layer1": (2, 64, 16, 16), "layer2": (2, 128, 8, 8), "layer3": (2, 256, 4, 4)}


def test_preact_resnet164_training_step_lowers_the_loss():
    mt.manual_seed(0)
    model = models.preact_resnet164(stochastic_depth_prob=0.2)
    images, labels = mt.randn(4, 3, 8, 8), mt.tensor([0, 1, 2, 3])
    before, after = loss_before_and_after_one_step(model, images, labels, lr=0.05)
    assert after < before, (before, after)


# ----------------------------------------------------------------------- wide ResNets
@pytest.mark.parametrize("name, depth, k", [("wide_resnet16_8", 16, 8), ("wide_resnet28_10", 28, 10),
                                            ("wide_resnet40_4", 40, 4)])
def test_wide_resnet_counts_follow_the_paper_s_layout(name, depth, k):
    expected = preact_count((depth - 4) // 6, (16 * k, 32 * k, 64 * k), 16, False)
    if name == "wide_resnet28_10":
        assert expected == 36_479_194
    parameters = {"wide_resnet16_8": 10_961_370, "wide_resnet28_10": 36_479_194,
                  "wide_resnet40_4": 8_949_210}
    assert parameters[name] == expected  # the figures of test_zoo.py, whose builds count them


def test_wide_resnet_blocks_have_dropout_between_the_convolutions():
    mt.manual_seed(0)
    model = models.wide_resnet(10, 2, dropout=0.3, num_classes=5)
    assert count(model) == preact_count(1, (32, 64, 128), 16, False, classes=5)
    block = model.layer2[0]
    assert isinstance(block, PreActBlock) and block.dropout.p == 0.3
    assert block.conv1.weight.shape == (64, 32, 3, 3) and block.downsample.weight.shape == (64, 32, 1, 1)
    # in training the dropout changes the output, in eval it does not
    images = mt.randn(2, 3, 8, 8)
    model.eval()
    with mt.no_grad():
        reference = model(images).numpy()
        model.train()
        for layer in model.modules():  # training mode without batch statistics: eval norms
            if isinstance(layer, nn.BatchNorm2d):
                layer.eval()
        mt.manual_seed(3)
        dropped = model(images).numpy()
    assert not np.allclose(reference, dropped)
    assert models.wide_resnet(10, 2).layer1[0].dropout is None


def test_wide_resnet_arguments_are_checked():
    with pytest.raises(ValueError, match="depth: expected 6n \\+ 4"):
        models.wide_resnet(27, 10)
    with pytest.raises(ValueError, match="k: expected a positive integer"):
        models.wide_resnet(16, 0)
    with pytest.raises(ValueError, match="dropout"):
        models.wide_resnet(16, 1, dropout=1.0)


def test_wide_resnet_training_step_lowers_the_loss():
    mt.manual_seed(0)
    model = models.wide_resnet16_8(dropout=0.3)
    images, labels = mt.randn(4, 3, 8, 8), mt.tensor([5, 6, 7, 8])
    before, after = loss_before_and_after_one_step(model, images, labels, lr=0.05)
    assert after < before, (before, after)


# ------------------------------------------------------------------- stochastic depth
def test_linear_decay_is_the_paper_s():
    probabilities = linear_decay(0.5, 54)
    assert probabilities[0] == pytest.approx(0.5 / 54) and probabilities[-1] == 0.5
    np.testing.assert_allclose(np.diff(probabilities), 0.5 / 54)
    with pytest.raises(ValueError, match="stochastic_depth_prob"):
        linear_decay(1.5, 3)


def test_resnet110_stochastic_depth_setting():
    model = models.resnet110(stochastic_depth_prob=0.5)
    blocks = [block for stage in (model.layer1, model.layer2, model.layer3) for block in stage]
    assert len(blocks) == 54
    assert [b.stochastic_depth.p for b in blocks] == pytest.approx([0.5 * l / 54 for l in range(1, 55)])
    assert all(b.stochastic_depth.mode == "batch" for b in blocks)


def test_stochastic_depth_changes_nothing_but_training():
    mt.manual_seed(4)
    plain = models.resnet20()
    mt.manual_seed(4)
    dropping = models.resnet20(stochastic_depth_prob=0.5)
    for key, value in plain.state_dict().items():  # no new parameters, the same draws
        np.testing.assert_array_equal(value.numpy(), dropping.state_dict()[key].numpy())
    images = mt.randn(2, 3, 8, 8)
    plain.eval()
    dropping.eval()
    with mt.no_grad():
        np.testing.assert_array_equal(plain(images).numpy(), dropping(images).numpy())


def test_a_dropped_block_passes_its_shortcut_only():
    mt.manual_seed(0)
    block = models.CifarBasicBlock(4, 4, drop_prob=1.0)  # always dropped in training
    x = mt.randn(2, 4, 5, 5)
    np.testing.assert_array_equal(block(x).detach().numpy(), np.maximum(x.detach().numpy(), 0))
    block.eval()
    assert not np.array_equal(block(x).detach().numpy(), np.maximum(x.numpy(), 0))


def test_blocks_are_dropped_at_random_for_the_whole_batch():
    mt.manual_seed(0)
    model = models.resnet20(stochastic_depth_prob=1.0)  # the last block always drops
    dropped = {}
    blocks = [block for stage in (model.layer1, model.layer2, model.layer3) for block in stage]
    for index, block in enumerate(blocks):
        block.stochastic_depth.register_forward_hook(
            lambda m, args, out, index=index: dropped.setdefault(index, []).append(
                bool(np.all(out.detach().numpy() == 0))))
    images = mt.randn(2, 3, 8, 8)
    with mt.no_grad():
        for _ in range(30):
            model(images)
    rates = [np.mean(dropped[i]) for i in range(9)]
    assert rates[-1] == 1.0 and rates[0] < 0.4  # p_l = l / 9
    assert 0 < rates[4] < 1  # some batches keep the middle block, some drop it


def test_resnet110_stochastic_depth_training_step_lowers_the_loss():
    mt.manual_seed(0)
    model = models.resnet110(stochastic_depth_prob=0.5)
    images, labels = mt.randn(4, 3, 8, 8), mt.tensor([0, 2, 4, 6])
    # 110 layers after the ReLUs of their sums start with large logits: a small step
    before, after = loss_before_and_after_one_step(model, images, labels, lr=0.01)
    assert after < before, (before, after)


# ------------------------------------------------------------- squeeze-and-excitation
def test_se_resnet_counts():
    cifar_se = sum(3 * se_count(c) for c in (16, 32, 64))
    assert count(models.se_resnet20()) == count(models.resnet20()) + cifar_se == 272_095
    imagenet_se = sum(n * se_count(c) for n, c in [(3, 256), (4, 512), (6, 1024), (3, 2048)])
    assert 25_557_032 + imagenet_se == 28_088_024  # resnet50 + SE (built in test_zoo.py)


def test_se_resnet50_blocks():
    mt.manual_seed(0)
    model = models.se_resnet50(num_classes=10)
    blocks = [m for m in model.modules() if isinstance(m, SEBottleneck)]
    assert len(blocks) == 16
    se = model.layer2[0].se
    assert isinstance(se, nn.SqueezeExcitation)
    assert se.fc1.weight.shape == (32, 512, 1, 1) and se.fc1.bias.shape == (32,)
    assert "layer4.2.se.fc2.bias" in model.state_dict()
    np.testing.assert_array_equal(se.fc1.bias.detach().numpy(), 0)
    assert model(mt.randn(2, 3, 32, 32)).shape == (2, 10)


def test_se_sits_at_the_end_of_the_branch_before_the_sum():
    mt.manual_seed(0)
    block = SECifarBasicBlock(8, 8)
    nn.init.zeros_(block.se.fc2.weight)
    nn.init.constant_(block.se.fc2.bias, -50.0)  # gate sigmoid(-50) ~ 0: the branch is off
    x = mt.randn(2, 8, 4, 4)
    np.testing.assert_allclose(block(x).detach().numpy(), np.maximum(x.numpy(), 0), atol=1e-12)
    nn.init.constant_(block.se.fc2.bias, 50.0)  # gate ~ 1: the plain block
    plain = models.CifarBasicBlock(8, 8)
    plain.load_state_dict({k: v for k, v in block.state_dict().items() if ".se." not in f".{k}"})
    np.testing.assert_allclose(block(x).detach().numpy(), plain(x).detach().numpy(), rtol=1e-6)


def test_se_resnet20_training_step_lowers_the_loss():
    mt.manual_seed(0)
    model = models.se_resnet20()
    images, labels = mt.randn(4, 3, 8, 8), mt.tensor([1, 3, 5, 7])
    before, after = loss_before_and_after_one_step(model, images, labels, lr=0.05)
    assert after < before, (before, after)
