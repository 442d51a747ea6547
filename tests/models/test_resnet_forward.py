"""ResNets running: output and stage shapes, the option-A shortcut, gradients reaching
every parameter, and a few SGD steps on one batch lowering the loss."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn, optim


def stage_shapes(model, x, stages):
    """Output shape of each named stage, recorded with forward hooks."""
    shapes = {}
    for name in stages:
        getattr(model, name).register_forward_hook(
            lambda module, args, out, name=name: shapes.__setitem__(name, out.shape)
        )
    return model(x).shape, shapes


@pytest.mark.parametrize("name", ["resnet20", "resnet56"])
def test_cifar_resnet_shapes(name):
    mt.manual_seed(0)
    out, shapes = stage_shapes(models.get_model(name), mt.randn(2, 3, 32, 32),
                               ["layer1", "layer2", "layer3"])
    assert out == (2, 10)
    assert shapes == {"layer1": (2, 16, 32, 32), "layer2": (2, 32, 16, 16),
                      "layer3": (2, 64, 8, 8)}


@pytest.mark.parametrize("name, channels", [("cifar_resnet18", 512), ("cifar_resnet50", 2048),
                                            ("preact_resnet18", 512)])
def test_cifar_stem_shapes(name, channels):
    mt.manual_seed(0)
    model = models.get_model(name, num_classes=7)
    out, shapes = stage_shapes(model, mt.randn(2, 3, 32, 32), ["layer1", "layer4"])
    assert out == (2, 7)
    assert shapes["layer1"][2:] == (32, 32)  # no stride-2 stem, no max-pool
    assert shapes["layer4"] == (2, channels, 4, 4)


def test_option_a_shortcut_subsamples_and_appends_zero_channels():
    shortcut = models.PadShortcut(3, 5, stride=2)
    x = mt.randn(2, 3, 6, 5, requires_grad=True)
    y = shortcut(x)
    assert y.shape == (2, 5, 3, 3)
    np.testing.assert_array_equal(y.detach().numpy()[:, :3], x.detach().numpy()[:, :, ::2, ::2])
    np.testing.assert_array_equal(y.detach().numpy()[:, 3:], 0)
    y.sum().backward()
    expected = np.zeros(x.shape, dtype=np.float32)
    expected[:, :, ::2, ::2] = 1  # only the kept pixels reach the output
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert list(shortcut.parameters()) == []


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_every_parameter_gets_a_gradient(shortcut):
    mt.manual_seed(0)
    model = models.resnet20(shortcut=shortcut)
    loss = nn.CrossEntropyLoss()(model(mt.randn(4, 3, 32, 32)), mt.tensor([0, 1, 2, 3]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert np.isfinite(p.grad.numpy()).all(), name
        assert np.any(p.grad.numpy() != 0), name


def train_steps(seed, steps=4):
    """Losses of ``steps`` SGD steps of ResNet-20 on one fixed batch of 8 images, and
    the loss after them."""
    mt.manual_seed(seed)
    images = mt.randn(8, 3, 32, 32)
    labels = mt.randint(0, 10, (8,))
    model = models.resnet20()
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with mt.no_grad():
        losses.append(loss_fn(model(images), labels).item())
    return losses


def test_sgd_steps_on_one_batch_lower_the_loss_deterministically():
    losses = train_steps(seed=3)
    assert losses[-1] < 0.75 * losses[0], losses  # memorizing 8 images: a clear drop
    assert losses == train_steps(seed=3)  # same seed, same numbers (bit for bit)


def test_eval_mode_uses_running_statistics():
    mt.manual_seed(0)
    model = models.resnet20()
    x = mt.randn(4, 3, 32, 32)
    model.train()
    model(x)  # one batch moves the running statistics
    model.eval()
    with mt.no_grad():
        first = model(x).numpy()
        alone = model(x[:1]).numpy()  # eval: a sample's output does not depend on the batch
    np.testing.assert_allclose(alone, first[:1], rtol=1e-4, atol=1e-5)
