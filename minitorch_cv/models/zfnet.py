"""ZFNet: Zeiler & Fergus 2013, "Visualizing and understanding convolutional networks".

Looking at AlexNet's features through a deconvolutional network, Zeiler and Fergus saw
dead and aliased first-layer filters, caused by the large 11x11 stride-4 filters; they
shrank them to 7x7 with stride 2 (conv2's stride to 2 as well) and made conv3-5 dense
(one GPU, no groups), which gave a better ImageNet model with the same plan. During
training every convolutional filter whose RMS exceeds 0.1 is scaled back to RMS 0.1, so
that no filter dominates (``renormalize_filters_``, to call after each optimizer step).

zfnet (224x224 input; figure 3 of the paper; 62,357,608 parameters):

    conv1 7x7/2 pad 1, 96 -> relu -> maxpool 3x3/2 -> contrast norm       96 x 55 x 55
    conv2 5x5/2, 256      -> relu -> maxpool 3x3/2 -> contrast norm      256 x 13 x 13
    conv3 3x3 pad 1, 384 -> relu                                         384 x 13 x 13
    conv4 3x3 pad 1, 384 -> relu                                         384 x 13 x 13
    conv5 3x3 pad 1, 256 -> relu -> maxpool 3x3/2                        256 x 6 x 6
    fc6 9216 -> 4096 -> relu -> dropout 0.5
    fc7 4096 -> 4096 -> relu -> dropout 0.5
    fc8 4096 -> num_classes

The paper gives the map sizes, not the paddings: a padding of 1 on conv1 and ceil_mode
pooling (Caffe's rounding) reproduce its 110, 55, 26, 13 and 6. It does not give the
constants of its contrast normalization across feature maps either; AlexNet's (5 maps,
k 2, alpha 1e-4, beta 0.75, see alexnet.py) are used. Initialization as the paper: weights
N(0, 0.01), biases 0. The fully connected part needs 6x6 maps: inputs of 224x224
(sizes 207 to 238 give them too).
"""
from .. import nn
from ..autograd import no_grad
from .alexnet import LRN_ALPHA, LRN_BETA, LRN_K, LRN_SIZE, check_six_by_six, paper_classifier
from .registry import register_model


class ZFNet(nn.Module):
    """Zeiler & Fergus's network (see the module docstring): ``features``, ``classifier``."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1),              # conv1
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K),
            nn.Conv2d(96, 256, kernel_size=5, stride=2),                       # conv2
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),                     # conv3
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),                     # conv4
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),                     # conv5
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        )
        self.classifier = paper_classifier(num_classes, dropout)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.constant_(module.bias, 0.0)

    def forward(self, x):
        x = self.features(x)
        check_six_by_six("zfnet", x)
        return self.classifier(x.flatten(1))


def renormalize_filters_(model, radius=0.1):
    """Zeiler & Fergus's filter renormalization, in place: every convolutional filter
    (one output channel's C/G x KH x KW weights) whose RMS exceeds ``radius`` is scaled
    to RMS ``radius``; smaller filters are left alone. Call it after each optimizer step:

        optimizer.step()
        renormalize_filters_(model)

    Returns the number of filters that were rescaled."""
    if not radius > 0:
        raise ValueError(f"radius: expected a positive number, got {radius!r}")
    rescaled = 0
    with no_grad():
        for module in model.modules():
            if not isinstance(module, nn.Conv2d):
                continue
            weight = module.weight.array  # (K, C/G, KH, KW)
            rms = (weight.reshape(weight.shape[0], -1) ** 2).mean(axis=1) ** 0.5
            too_large = rms > radius
            scale = weight.dtype.type(radius) / rms[too_large]
            weight[too_large] *= scale.reshape(-1, 1, 1, 1)
            rescaled += int(too_large.sum())
    return rescaled


@register_model
def zfnet(num_classes=1000, dropout=0.5):
    """ZFNet (Zeiler & Fergus 2013): 62,357,608 parameters."""
    return ZFNet(num_classes, dropout)
