"""deform_resnet50: torchvision's ResNet-50 tree with modulated deformable conv2 in
layer2-layer4, the parameter count to the unit, the state_dict keys, and its start as
ResNet-50 with those convolutions at half weight."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn

# resnet50 (torchvision) has 25,557,032 parameters. Each deformable conv2 adds its offset
# predictor, a 3x3 Conv2d(width, 27) with bias: 27*9*width + 27 for the widths 128 (4
# blocks of layer2), 256 (6 of layer3) and 512 (3 of layer4).
RESNET50_PARAMETERS = 25_557_032
OFFSET_PREDICTORS = sum(blocks * (27 * 9 * width + 27) for blocks, width in ((4, 128), (6, 256), (3, 512)))


@pytest.fixture(scope="module")
def model():
    mt.manual_seed(0)
    return models.deform_resnet50()


@pytest.fixture(scope="module")
def plain():
    return models.resnet50()


def test_parameter_count(model):
    assert OFFSET_PREDICTORS == 871_263
    assert sum(p.numel() for p in model.parameters()) == RESNET50_PARAMETERS + OFFSET_PREDICTORS == 26_428_295


def test_the_tree_is_resnet50_with_deformable_conv2_in_layers_2_to_4(model, plain):
    expected = list(plain.state_dict())
    for stage, blocks in (("layer2", 4), ("layer3", 6), ("layer4", 3)):
        for j in range(blocks):
            at = expected.index(f"{stage}.{j}.conv2.weight") + 1
            expected[at:at] = [f"{stage}.{j}.conv2.conv_offset.weight", f"{stage}.{j}.conv2.conv_offset.bias"]
    assert list(model.state_dict()) == expected
    assert isinstance(model.layer1[0].conv2, nn.Conv2d)
    for stage, width in ((model.layer2, 128), (model.layer3, 256), (model.layer4, 512)):
        for j, block in enumerate(stage):
            conv2 = block.conv2
            assert isinstance(conv2, nn.ModulatedDeformConv2d) and conv2.bias is None
            assert conv2.weight.shape == (width, width, 3, 3)
            assert (conv2.stride, conv2.padding) == (((2, 2) if j == 0 else (1, 1)), (1, 1))
            assert conv2.conv_offset.weight.shape == (27, width, 3, 3)
            assert conv2.conv_offset.stride == conv2.stride
            assert not np.any(conv2.conv_offset.weight.detach().numpy()) and not np.any(conv2.conv_offset.bias.detach().numpy())
    assert model(mt.randn(1, 3, 64, 64)).shape == (1, 1000)


def test_it_starts_as_resnet50_with_those_convolutions_at_half_weight(model, plain):
    """The same weights in resnet50, conv2 of layers 2-4 halved: the same outputs (eval
    mode; the masks are sigmoid(0) = 1/2 and the offsets 0)."""
    result = plain.load_state_dict(model.state_dict(), strict=False)
    assert result.missing_keys == [] and len(result.unexpected_keys) == 26
    for stage in (plain.layer2, plain.layer3, plain.layer4):
        for block in stage:
            block.conv2.weight.array[...] *= 0.5
    model.eval()
    plain.eval()
    x = mt.randn(2, 3, 48, 48)
    with mt.no_grad():
        np.testing.assert_allclose(model(x).numpy(), plain(x).numpy(), rtol=1e-4, atol=1e-5)
