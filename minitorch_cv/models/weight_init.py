"""He initialization for residual networks, shared by every ResNet in this package.

    Conv2d weight   N(0, std^2), std = sqrt(2 / fan_out), fan_out = K * KH * KW
    Conv2d bias     0
    BatchNorm2d, GroupNorm   weight 1, bias 0
    Linear          PyTorch's default (U(-1/sqrt(fan_in), 1/sqrt(fan_in)))

He et al. (2015, "Delving deep into rectifiers") show that std = sqrt(2 / fan) keeps
the variance of ReLU activations constant; with fan = fan_in it holds in the forward
pass, with fan = fan_out in the backward pass, and either works. We use fan_out, as
torchvision's ResNets and fb.resnet.torch (the reference re-implementation of the
CIFAR experiments) do, so a model built here starts from the same distribution as
theirs.

``zero_init_residual`` (Goyal et al. 2017, "Accurate, large minibatch SGD"): the last
layer of every residual branch starts at zero, so each block starts as the identity and
the network as a shallow one. Each block class says which layer that is with a
``zero_init_last()`` method.
"""
from .. import nn


def init_resnet_(model, zero_init_residual=False):
    """Initialize ``model`` in place as described above; returns it."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    if zero_init_residual:
        for module in model.modules():
            if hasattr(module, "zero_init_last"):
                module.zero_init_last()
    return model
