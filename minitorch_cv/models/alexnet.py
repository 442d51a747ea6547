"""AlexNet: torchvision's (``alexnet``) and the paper's (``alexnet_original``).

Krizhevsky, Sutskever & Hinton 2012, "ImageNet classification with deep convolutional
neural networks".

Five convolutional and three fully connected layers, trained on two GPUs: ReLUs instead
of saturating units (several times faster training), overlapping max-pooling (3x3
windows, stride 2), local response normalization after the first two convolutions,
dropout in the first two fully connected layers, and heavy data augmentation. The
network was split across the two GPUs, which is what ``groups=2`` reproduces: conv2,
conv4 and conv5 only see the half of the previous layer on their own GPU.

alexnet_original, as published (224x224 input; 60,965,224 parameters):

    conv1 11x11/4 pad 2, 96  -> relu -> LRN -> maxpool 3x3/2             96 x 27 x 27
    conv2 5x5 pad 2, 256, groups 2 -> relu -> LRN -> maxpool 3x3/2      256 x 13 x 13
    conv3 3x3 pad 1, 384 (sees both halves) -> relu                     384 x 13 x 13
    conv4 3x3 pad 1, 384, groups 2 -> relu                              384 x 13 x 13
    conv5 3x3 pad 1, 256, groups 2 -> relu -> maxpool 3x3/2             256 x 6 x 6
    fc6 9216 -> 4096 -> relu -> dropout 0.5
    fc7 4096 -> 4096 -> relu -> dropout 0.5
    fc8 4096 -> num_classes

LRN is the paper's b_c = a_c / (k + alpha sum_{5 maps around c} a^2)^beta with k = 2,
alpha = 1e-4, beta = 0.75. PyTorch's LocalResponseNorm divides alpha by the window size,
so the layer is built with alpha = 1e-4 * 5 (``nn.LocalResponseNorm(5, 5e-4, 0.75, 2)``;
Caffe's reference model divides too and uses alpha = 1e-4 as the layer's value, which is
a 5 times weaker normalization than the paper's). The paper's 224 input does not give
its 55x55 first maps without the padding of 2 used here (torchvision's choice too).
Initialization as the paper: weights N(0, 0.01), biases 1 in conv2, conv4, conv5, fc6
and fc7 (to give the ReLUs positive inputs early), 0 elsewhere. The fully connected
part needs exactly 6x6 maps: inputs of 224x224 (sizes 223 to 254 give them too).

alexnet is torchvision's one-GPU variant (61,100,840 parameters): 64-192-384-256-256
filters without groups, no LRN, an adaptive 6x6 average pool (any input of at least
63x63), dropout in front of fc6 and fc7, PyTorch's default initialization.
"""
from .. import nn
from .registry import check_no_weights, register_model

# The paper's LRN constants in PyTorch's convention (alpha divided by the window size).
LRN_SIZE = 5
LRN_ALPHA = 1e-4 * LRN_SIZE
LRN_BETA = 0.75
LRN_K = 2.0


class AlexNet(nn.Module):
    """torchvision's AlexNet: ``features``, an adaptive 6x6 ``avgpool``, ``classifier``."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x).flatten(1)
        return self.classifier(x)


class AlexNetOriginal(nn.Module):
    """The paper's AlexNet (see the module docstring): ``features`` and ``classifier``."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2),             # conv1
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),            # conv2
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),                     # conv3
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),           # conv4
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),           # conv5
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = paper_classifier(num_classes, dropout)
        self._init_weights()

    def _init_weights(self):
        conv1, conv2, conv3, conv4, conv5 = [m for m in self.features if isinstance(m, nn.Conv2d)]
        fc6, fc7, fc8 = [m for m in self.classifier if isinstance(m, nn.Linear)]
        for layer in (conv1, conv2, conv3, conv4, conv5, fc6, fc7, fc8):
            nn.init.normal_(layer.weight, 0.0, 0.01)
            nn.init.constant_(layer.bias, 0.0)
        for layer in (conv2, conv4, conv5, fc6, fc7):
            nn.init.constant_(layer.bias, 1.0)

    def forward(self, x):
        x = self.features(x)
        check_six_by_six("alexnet_original", x)
        return self.classifier(x.flatten(1))


def paper_classifier(num_classes, dropout):
    """fc6 (256 x 6 x 6 -> 4096), fc7, fc8 with ReLU and dropout after fc6 and fc7: the
    classifier of the papers' AlexNet and of ZFNet."""
    return nn.Sequential(
        nn.Linear(256 * 6 * 6, 4096),                                          # fc6
        nn.ReLU(inplace=True),
        nn.Dropout(p=dropout),
        nn.Linear(4096, 4096),                                                 # fc7
        nn.ReLU(inplace=True),
        nn.Dropout(p=dropout),
        nn.Linear(4096, num_classes),                                          # fc8
    )


def check_six_by_six(name, features):
    """Without an adaptive pool the classifier needs exactly 6x6 maps (224x224 images)."""
    if features.shape[-2:] != (6, 6):
        raise ValueError(
            f"input: {name} needs 224x224 images (6x6 maps before fc6), got "
            f"{tuple(features.shape[-2:])} maps"
        )


@register_model
def alexnet(*, weights=None, progress=True, **kwargs):
    """torchvision's AlexNet: 61,100,840 parameters."""
    check_no_weights(weights)
    return AlexNet(**kwargs)


@register_model
def alexnet_original(num_classes=1000, dropout=0.5):
    """AlexNet as published (two-GPU groups, LRN): 60,965,224 parameters."""
    return AlexNetOriginal(num_classes, dropout)
