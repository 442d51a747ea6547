"""GoogLeNet and Inception v3 (googlenet.py, inception.py): torchvision's module names,
the auxiliary heads and the named-tuple outputs of training mode, the 0.3 x auxiliary
loss, transform_input, initialization, and one training step each."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn
from minitorch_cv.models.inception import InceptionAux
from minitorch_cv.nn import functional as F
from tests.models.training import loss_before_and_after_one_step


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def googlenet():
    mt.manual_seed(0)
    return models.googlenet(num_classes=10)


@pytest.fixture(scope="module")
def inception():
    mt.manual_seed(0)
    return models.inception_v3(num_classes=10)


def test_googlenet_module_tree(googlenet):
    assert [name for name, _ in googlenet.named_children()] == [
        "conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b",
        "maxpool3", "inception4a", "inception4b", "inception4c", "inception4d", "inception4e",
        "maxpool4", "inception5a", "inception5b", "aux1", "aux2", "avgpool", "dropout", "fc"]
    assert googlenet.conv1.bn.eps == 0.001 and googlenet.conv1.conv.bias is None
    # torchvision's "5x5" branch is a 3x3 convolution (its issue 906), kept for its weights
    assert googlenet.inception3a.branch3[1].conv.kernel_size == (3, 3)
    assert googlenet.maxpool1.ceil_mode
    assert "aux1.fc2.weight" in googlenet.state_dict()


def test_googlenet_outputs_in_training_and_eval(googlenet):
    images = mt.randn(2, 3, 64, 64)
    googlenet.train()
    outputs = googlenet(images)
    assert isinstance(outputs, models.GoogLeNetOutputs)
    assert outputs._fields == ("logits", "aux_logits2", "aux_logits1")
    assert [o.shape for o in outputs] == [(2, 10)] * 3
    googlenet.eval()
    with mt.no_grad():
        assert googlenet(images).shape == (2, 10)  # eval: the logits alone


def test_googlenet_without_auxiliary_heads():
    mt.manual_seed(0)
    model = models.googlenet(aux_logits=False, dropout=0.4)
    assert model.aux1 is None and model.aux2 is None
    assert not any(key.startswith("aux") for key in model.state_dict())
    assert count(model) == 6_624_904  # torchvision's figure for its weights
    assert model.dropout.p == 0.4
    assert model(mt.randn(2, 3, 32, 32)).shape == (2, 1000)  # training, still plain logits


def test_googlenet_loss_adds_0_3_of_each_auxiliary_loss(googlenet):
    googlenet.train()
    mt.manual_seed(1)
    outputs = googlenet(mt.randn(2, 3, 64, 64))
    target = mt.tensor([3, 8])
    ce = [F.cross_entropy(o, target).item() for o in outputs]
    assert models.googlenet_loss(outputs, target).item() == pytest.approx(
        ce[0] + 0.3 * (ce[1] + ce[2]), rel=1e-6)
    assert models.googlenet_loss(outputs.logits, target).item() == pytest.approx(ce[0], rel=1e-6)
    smoothed = models.googlenet_loss(outputs, target, aux_weight=0.5, label_smoothing=0.1).item()
    ce_smooth = [F.cross_entropy(o, target, label_smoothing=0.1).item() for o in outputs]
    assert smoothed == pytest.approx(ce_smooth[0] + 0.5 * (ce_smooth[1] + ce_smooth[2]), rel=1e-6)


def test_transform_input_maps_imagenet_normalization_to_minus_one_one():
    from minitorch_cv.models.googlenet import transform_input

    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    pixels = np.random.default_rng(0).uniform(0, 1, size=(2, 3, 4, 5))
    normalized = (pixels - mean[:, None, None]) / std[:, None, None]
    out = transform_input(mt.tensor(normalized)).numpy()
    np.testing.assert_allclose(out, (pixels - 0.5) / 0.5, rtol=1e-12, atol=1e-12)


def test_googlenet_initialization(googlenet):
    weight = googlenet.inception5b.branch2[1].conv.weight.detach().numpy()  # 663,552 values
    assert abs(weight.std() / 0.01 - 1) < 0.01
    np.testing.assert_array_equal(googlenet.conv1.bn.weight.detach().numpy(), 1)
    with pytest.raises(ValueError, match="blocks length should be 3"):
        models.GoogLeNet(blocks=[nn.Conv2d])


def test_googlenet_training_step_lowers_the_loss(googlenet):
    images, labels = mt.randn(4, 3, 64, 64), mt.tensor([0, 4, 8, 9])
    before, after = loss_before_and_after_one_step(googlenet, images, labels, lr=0.05,
                                                   loss_fn=models.googlenet_loss)
    assert after < before, (before, after)


def test_inception_v3_module_tree(inception):
    names = [name for name, _ in inception.named_children()]
    assert names[:7] == ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1",
                         "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2"]
    assert names[7:] == ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                         "Mixed_6d", "Mixed_6e", "AuxLogits", "Mixed_7a", "Mixed_7b", "Mixed_7c",
                         "avgpool", "dropout", "fc"]
    assert inception.Mixed_6b.branch7x7_2.conv.kernel_size == (1, 7)
    assert inception.Mixed_6b.branch7x7_3.conv.kernel_size == (7, 1)


def test_inception_v3_outputs_in_training_and_eval(inception):
    images = mt.randn(2, 3, 75, 75)
    inception.eval()
    with mt.no_grad():
        assert inception(images).shape == (2, 10)
    # The auxiliary head needs 17x17 maps (299x299 inputs); at 75x75 a stand-in head
    # shows where its output goes.
    head = inception.AuxLogits
    inception.AuxLogits = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(768, 10))
    try:
        inception.train()
        outputs = inception(images)
    finally:
        inception.AuxLogits = head
    assert isinstance(outputs, models.InceptionOutputs)
    assert outputs._fields == ("logits", "aux_logits")
    assert outputs.logits.shape == outputs.aux_logits.shape == (2, 10)
    mt.manual_seed(0)
    assert head(mt.randn(2, 768, 17, 17)).shape == (2, 10)  # the real head on 17x17 maps


def test_inception_v3_initialization(inception):
    conv = inception.Mixed_7c.branch3x3dbl_2.conv.weight.detach().numpy()  # 1.5M values
    # truncated at +-2 = 20 std: the truncation does not show, std 0.1
    assert abs(conv.std() / 0.1 - 1) < 0.01
    assert abs(inception.AuxLogits.fc.weight.detach().numpy().std() / 0.001 - 1) < 0.05
    assert abs(inception.AuxLogits.conv1.conv.weight.detach().numpy().std() / 0.1 - 1) < 0.01
    with pytest.raises(ValueError, match="length of inception_blocks should be 7"):
        models.Inception3(inception_blocks=[nn.Conv2d])


def test_inception_v3_training_step_lowers_the_loss():
    mt.manual_seed(0)
    model = models.inception_v3(num_classes=10, aux_logits=False)
    # torchvision's 23,834,568 without the auxiliary head, less 990 classes of fc
    assert count(model) == 23_834_568 - 990 * (2048 + 1)
    images, labels = mt.randn(2, 3, 75, 75), mt.tensor([1, 6])
    before, after = loss_before_and_after_one_step(model, images, labels, lr=0.01)
    assert after < before, (before, after)


def test_inception_aux_alone():
    mt.manual_seed(0)
    head = InceptionAux(768, 5)
    assert [name for name, _ in head.named_children()] == ["conv0", "conv1", "fc"]
    assert head.conv1.conv.kernel_size == (5, 5)
