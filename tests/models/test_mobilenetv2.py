"""MobileNetV2: torchvision's parameter counts (also with width_mult), module names,
channel rounding, the residual rule, initialization, shapes and training."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn, optim
from minitorch_cv.models.mobilenetv2 import make_divisible
from tests.models.zoo_testing import (
    assert_eval_deterministic,
    built,
    count,
    training_losses,
)
from tests.module_gradcheck import check_module_backward


@pytest.mark.parametrize("width_mult, expected", [(1.0, 3_504_872), (0.5, 1_968_680)])
def test_parameter_count(width_mult, expected):  # torchvision 0.28's counts
    assert count(built("mobilenet_v2", width_mult=width_mult)) == expected


def test_channel_rounding():
    assert make_divisible(32 * 0.5, 8) == 16
    assert make_divisible(24 * 0.35, 8) == 8  # 8.4 -> 8
    assert make_divisible(16 * 0.35, 8) == 8  # 5.6 -> the minimum, one divisor
    assert make_divisible(1280 * 1.4, 8) == 1792
    assert make_divisible(92, 8) == 96  # ties round up
    assert make_divisible(60, 16) == 64  # 48 would lose 20%: one more divisor
    model = built("mobilenet_v2", width_mult=0.5)
    assert model.features[0][0].out_channels == 16
    assert model.last_channel == 1280  # the last layer never shrinks


def test_module_tree_and_residual_rule():
    model = built("mobilenet_v2")
    assert len(model.features) == 19  # stem, 17 inverted residuals, last 1x1 conv
    blocks = list(model.features)[1:18]
    residual = [block.use_res_connect for block in blocks]
    # the first block of each row of the table changes shape (no shortcut), the repeats keep it
    assert residual == [False, False, True, False, True, True, False, True, True, True,
                        False, True, True, False, True, True, False]
    state = model.state_dict()
    assert state["features.1.conv.0.0.weight"].shape == (32, 1, 3, 3)  # t = 1: no expansion
    assert state["features.1.conv.1.weight"].shape == (16, 32, 1, 1)
    assert state["features.2.conv.0.0.weight"].shape == (96, 16, 1, 1)  # expand 6x
    assert state["features.2.conv.1.0.weight"].shape == (96, 1, 3, 3)  # depthwise
    assert state["features.2.conv.2.weight"].shape == (24, 96, 1, 1)  # linear projection
    assert state["features.2.conv.3.running_mean"].shape == (24,)
    assert state["features.18.0.weight"].shape == (1280, 320, 1, 1)
    assert state["classifier.1.weight"].shape == (1000, 1280)
    assert len(state) == 314  # as torchvision's mobilenet_v2
    assert isinstance(model.features[2].conv[1][2], nn.ReLU6)
    assert isinstance(model.classifier[0], nn.Dropout) and model.classifier[0].p == 0.2


def test_initialization_is_torchvisions():
    model = built("mobilenet_v2")
    weight = model.features[17].conv[0][0].weight.detach().numpy()  # (960, 160, 1, 1)
    assert abs(weight.std() / np.sqrt(2.0 / 960) - 1) < 0.01  # kaiming_normal_, fan_out
    linear = model.classifier[1].weight.detach().numpy()
    assert abs(linear.std() / 0.01 - 1) < 0.01  # N(0, 0.01^2)
    np.testing.assert_array_equal(model.classifier[1].bias.detach().numpy(), 0)


def test_forward_shape_and_eval_determinism():
    model = built("mobilenet_v2", width_mult=0.5)
    x = mt.randn(2, 3, 32, 32)
    assert_eval_deterministic(model, x)
    with mt.no_grad():
        assert model(x).shape == (2, 1000)


def test_inverted_residual_gradients():
    mt.manual_seed(1)
    block = models.InvertedResidual(4, 4, stride=1, expand_ratio=3).double()
    assert block.use_res_connect
    x = mt.tensor(np.random.default_rng(0).standard_normal((2, 4, 5, 4)))
    check_module_backward(block, [x])  # ReLU6's kinks have measure zero here


def test_training_steps_lower_the_loss():
    mt.manual_seed(2)
    model = models.mobilenet_v2(num_classes=4, width_mult=0.25, dropout=0.0)
    images, labels = mt.randn(8, 3, 16, 16), mt.randint(0, 4, (8,))
    # Adam: with BatchNorm over 8 values per channel at the 1x1 end, SGD is erratic here
    adam = optim.Adam(model.parameters(), lr=1e-3)
    losses = training_losses(model, images, labels, steps=5, optimizer=adam)
    assert losses[-1] < 0.8 * losses[0], losses


def test_bad_arguments():
    with pytest.raises(ValueError, match="stride"):
        models.InvertedResidual(4, 4, stride=3, expand_ratio=6)
    with pytest.raises(ValueError, match="inverted_residual_setting"):
        models.mobilenet_v2(inverted_residual_setting=[[1, 16, 1]])
