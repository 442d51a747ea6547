"""What the model-zoo tests of DenseNet, MobileNetV2, EfficientNet, ViT and CoAtNet share:
parameter counts, models built once per session, eval determinism and a few training
steps (gradient checks of modules: tests/module_gradcheck.py)."""
import functools

import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, nn, optim


def count(model):
    return sum(p.numel() for p in model.parameters())


@functools.lru_cache(maxsize=None)
def built(name, **kwargs):
    """One model per (name, options) for the whole session (tests only read it)."""
    mt.manual_seed(0)
    return models.get_model(name, **kwargs)


def assert_eval_deterministic(model, x):
    """In eval mode the same input gives the same output, and a sample's output does
    not depend on the rest of the batch."""
    model.eval()
    with mt.no_grad():
        first = model(x).detach().numpy()
        second = model(x).detach().numpy()
        alone = model(x[:1]).detach().numpy()
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(alone, first[:1], rtol=1e-4, atol=1e-5)


def training_losses(model, images, labels, steps, lr=0.05, momentum=0.9, optimizer=None):
    """Loss before each of ``steps`` SGD steps on one fixed batch, then the loss after
    them (all in training mode: BatchNorm with batch statistics; build the model
    without dropout so that the numbers compare)."""
    model.train()
    optimizer = optimizer or optim.SGD(model.parameters(), lr=lr, momentum=momentum)
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
