"""EfficientNet B0-B7: the compound-scaling rule and the variant table computed from it,
torchvision's parameter counts, module names, BatchNorm settings, dropout and stochastic
depth schedule, MBConv (with its squeeze-and-excitation) gradients, training."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn, optim
from minitorch_cv.models import efficientnet
from tests.models.zoo_testing import assert_eval_deterministic, built, count, training_losses
from tests.module_gradcheck import check_module_backward

# torchvision 0.28's parameter counts (1000 classes)
PARAMETERS = {
    "efficientnet_b0": 5_288_548,
    "efficientnet_b1": 7_794_184,
    "efficientnet_b2": 9_109_994,
    "efficientnet_b3": 12_233_232,
    "efficientnet_b4": 19_341_616,
    "efficientnet_b5": 30_389_784,
    "efficientnet_b6": 43_040_704,
    "efficientnet_b7": 66_347_960,
}


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_parameter_count(name):
    mt.manual_seed(0)
    assert count(models.get_model(name)) == PARAMETERS[name]  # built and dropped: up to 66M


def test_compound_scaling_rule():
    alpha, beta, gamma = efficientnet.ALPHA, efficientnet.BETA, efficientnet.GAMMA
    assert abs(alpha * beta**2 * gamma**2 - 2) < 0.1  # FLOPs x2 per unit of phi
    # B1-B3: the rule at phi = 0.5, 1, 2, width and depth to one decimal and the
    # resolution to a multiple of 20
    for name, phi in (("efficientnet_b1", 0.5), ("efficientnet_b2", 1), ("efficientnet_b3", 2)):
        width, depth, resolution = efficientnet.compound_coefficients(phi)
        assert (round(width, 1), round(depth, 1), 20 * round(resolution / 20)) == efficientnet.VARIANTS[name]
    # beyond B3 the released coefficients grow faster than the rule (set by hand)
    width, depth, resolution = efficientnet.compound_coefficients(3)
    assert efficientnet.VARIANTS["efficientnet_b4"] > (round(width, 1), round(depth, 1), resolution)


def test_variant_table_is_computed_from_the_coefficients():
    def layout(name):
        width, depth, _ = efficientnet.VARIANTS[name]
        return [(cnf.out_channels, cnf.num_layers) for cnf in efficientnet.efficientnet_stages(width, depth)]

    assert layout("efficientnet_b0") == [(16, 1), (24, 2), (40, 2), (80, 3), (112, 3), (192, 4), (320, 1)]
    # B7: w 2.0, d 3.1: channels 2c rounded to 8, layers ceil(3.1 n)
    assert layout("efficientnet_b7") == [(32, 4), (48, 7), (80, 7), (160, 10), (224, 10), (384, 13), (640, 4)]
    assert efficientnet.MBConvConfig.adjust_channels(112, 1.1) == 120  # 123.2 -> nearest 8
    assert efficientnet.MBConvConfig.adjust_depth(3, 1.1) == 4  # ceil(3.3)
    dropouts = [efficientnet.variant_dropout(name) for name in efficientnet.VARIANTS]
    assert dropouts == [0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5]


def test_module_tree_and_state_dict_names():
    model = built("efficientnet_b0")
    state = model.state_dict()
    assert state["features.0.0.weight"].shape == (32, 3, 3, 3)
    assert "features.1.0.block.0.0.weight" in state  # t = 1: the depthwise conv comes first
    assert state["features.1.0.block.0.0.weight"].shape == (32, 1, 3, 3)
    assert state["features.1.0.block.1.fc1.weight"].shape == (8, 32, 1, 1)  # SE: 32 // 4
    assert state["features.2.0.block.0.0.weight"].shape == (96, 16, 1, 1)  # expansion x6
    assert state["features.3.0.block.1.0.weight"].shape == (144, 1, 5, 5)  # depthwise 5x5
    assert state["features.3.0.block.2.fc2.bias"].shape == (144,)
    assert state["features.3.0.block.3.1.running_var"].shape == (40,)  # projection BN
    assert state["features.8.0.weight"].shape == (1280, 320, 1, 1)
    assert state["classifier.1.weight"].shape == (1000, 1280)
    assert len(state) == 360  # as torchvision's efficientnet_b0
    assert isinstance(model.classifier[0], nn.Dropout) and model.classifier[0].p == 0.2
    assert isinstance(model.features[2][0].block[2].activation, nn.SiLU)
    assert isinstance(model.features[2][0].block[2].scale_activation, nn.Sigmoid)


def test_stochastic_depth_rises_linearly_to_0_2():
    blocks = [block for stage in list(built("efficientnet_b0").features)[1:8] for block in stage]
    assert len(blocks) == 16
    assert [block.stochastic_depth.p for block in blocks] == [0.2 * i / 16 for i in range(16)]
    assert all(block.stochastic_depth.mode == "row" for block in blocks)


@pytest.mark.parametrize("name, eps, momentum", [("efficientnet_b4", 1e-5, 0.1), ("efficientnet_b5", 1e-3, 0.01)])
def test_batch_norm_settings(name, eps, momentum, monkeypatch):
    # the BN settings are checked on the stages that the constructor passes, without
    # building a 30M-parameter network
    captured = {}
    monkeypatch.setattr(efficientnet, "EfficientNet", lambda stages, dropout, **kw: captured.update(kw, dropout=dropout))
    models.get_model(name)
    norm = captured.get("norm_layer", nn.BatchNorm2d)(8)
    assert (norm.eps, norm.momentum) == (eps, momentum)
    assert captured["dropout"] == 0.4


def test_initialization_is_torchvisions():
    model = built("efficientnet_b0")
    weight = model.features[6][0].block[0][0].weight.detach().numpy()  # (672, 112, 1, 1)
    assert abs(weight.std() / math.sqrt(2.0 / 672) - 1) < 0.01  # kaiming_normal_, fan_out
    linear = model.classifier[1].weight.detach().numpy()
    bound = 1 / math.sqrt(1000)  # U(-1/sqrt(out_features), +)
    assert 0.99 * bound < np.abs(linear).max() <= bound
    np.testing.assert_array_equal(model.classifier[1].bias.detach().numpy(), 0)
    np.testing.assert_array_equal(model.features[6][0].block[2].fc1.bias.detach().numpy(), 0)


def test_forward_shape_and_eval_determinism():
    model = built("efficientnet_b0")
    x = mt.randn(2, 3, 32, 32)
    assert_eval_deterministic(model, x)
    with mt.no_grad():
        assert model(x).shape == (2, 1000)


def mbconv(expand_ratio=2, stride=1, channels=(8, 8)):
    """One MBConv (channels are rounded to multiples of 8, so 8 is the smallest)."""
    mt.manual_seed(1)
    cnf = efficientnet.MBConvConfig(expand_ratio, 3, stride, *channels, 1)
    return efficientnet.MBConv(cnf, 0.0, nn.BatchNorm2d).double()


def test_mbconv_gradients_with_squeeze_and_excitation():
    block = mbconv()
    assert block.use_res_connect and isinstance(block.block[2], nn.SqueezeExcitation)
    x = mt.tensor(np.random.default_rng(0).standard_normal((2, 8, 5, 4)))
    check_module_backward(block, [x])  # training mode: BN with batch statistics
    strided = mbconv(stride=2, channels=(8, 16))
    assert not strided.use_res_connect
    check_module_backward(strided, [x])


def test_stochastic_depth_drops_whole_residual_branches_in_training():
    cnf = efficientnet.MBConvConfig(2, 3, 1, 8, 8, 1)
    block = efficientnet.MBConv(cnf, 1.0, nn.BatchNorm2d)  # always dropped
    x = mt.randn(3, 8, 5, 5)
    np.testing.assert_array_equal(block(x).detach().numpy(), x.detach().numpy())
    block.eval()
    assert not np.allclose(block(x).detach().numpy(), x.detach().numpy())


def test_training_steps_lower_the_loss():
    mt.manual_seed(2)
    model = models.EfficientNet(efficientnet.efficientnet_stages(0.25, 0.5), dropout=0.0, num_classes=4)
    images, labels = mt.randn(8, 3, 16, 16), mt.randint(0, 4, (8,))
    losses = training_losses(model, images, labels, steps=5, optimizer=optim.Adam(model.parameters(), lr=1e-3))
    assert losses[-1] < 0.8 * losses[0], losses


def test_bad_arguments():
    with pytest.raises(ValueError, match="inverted_residual_setting"):
        models.EfficientNet([], dropout=0.2)
    with pytest.raises(TypeError, match="MBConvConfig"):
        models.EfficientNet([(1, 3, 1, 32, 16, 1)], dropout=0.2)
    with pytest.raises(ValueError, match="stride must be 1 or 2"):
        efficientnet.MBConv(efficientnet.MBConvConfig(1, 3, 3, 8, 8, 1), 0.0, nn.BatchNorm2d)
