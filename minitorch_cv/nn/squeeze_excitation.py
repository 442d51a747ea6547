"""Squeeze-and-excitation (Hu et al. 2018, "Squeeze-and-excitation networks"), with the
semantics of torchvision.ops.SqueezeExcitation.

A block re-weights the channels of its input by a gate computed from the input itself:

    s     = mean over H, W of x                     (N, C, 1, 1)   squeeze
    g     = sigma(fc2(delta(fc1(s))))               (N, C, 1, 1)   excitation
    out   = g * x                                   (N, C, H, W)   scale

fc1 (C -> squeeze_channels) and fc2 (back to C) are 1x1 convolutions with bias, delta a
ReLU and sigma a sigmoid by default (eq. 3 of the paper; the reduction ratio r of the
paper is C / squeeze_channels). Names and state_dict keys are torchvision's: avgpool,
fc1, fc2, activation, scale_activation.
"""
from .activation import ReLU, Sigmoid
from .conv import Conv2d
from .module import Module
from .pooling import AdaptiveAvgPool2d


class SqueezeExcitation(Module):
    """out = scale_activation(fc2(activation(fc1(avgpool(x))))) * x (see the module docstring).

    ``activation`` and ``scale_activation`` are module classes (or any callable that
    returns a module), called with no arguments, as in torchvision.
    """

    def __init__(self, input_channels, squeeze_channels, activation=ReLU, scale_activation=Sigmoid):
        super().__init__()
        self.avgpool = AdaptiveAvgPool2d(1)
        self.fc1 = Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):  # noqa: A002 - PyTorch's argument name
        """The gate g, (N, C, 1, 1)."""
        scale = self.avgpool(input)
        scale = self.activation(self.fc1(scale))
        return self.scale_activation(self.fc2(scale))

    def forward(self, input):  # noqa: A002
        return self._scale(input) * input
