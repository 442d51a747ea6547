"""Hypercolumns (Hariharan, Arbelaez, Girshick & Malik 2015, "Hypercolumns for Object
Segmentation and Fine-grained Localization") on VGG-16: hypercolumn_vgg16.

The idea: the last layer of a CNN knows what is in the image but not precisely where;
early layers know where but not what. The hypercolumn of a pixel is the vector of all
the units above it, in several layers: each chosen layer's feature map is upsampled
(bilinearly) to a common grid and the maps are concatenated, so every position carries
features from fine to coarse; a per-pixel classifier then labels it. As the paper, the
grid is coarser than the image (its 50x50; here 1/``stride`` of the input, 4 by
default) and the classifier's scores are upsampled to the image: the classifier is
linear, so that is the same as classifying upsampled features, at a fraction of the
memory.

    VGG-16 features (torchvision's), taps after the ReLU of
        conv2_2 (128 channels, stride 2), conv3_3 (256, 4), conv4_3 (512, 8), conv5_3 (512, 16)
    each tap resized bilinearly to (ceil(H / stride), ceil(W / stride)), concatenated:
        1408 channels per position
    classifier conv 1x1 1408 -> num_classes (a linear classifier per pixel)
    bilinear to H x W                                           (N, num_classes, H, W)

(The paper taps pool2, conv4 and fc7 of AlexNet-style networks; VGG-16's fc layers would
bring 120M parameters for one more tap, so its conv stages stand in for them.)
14,744,277 parameters at 21 classes (VGG-16's convolutions: 14,714,688).
"""
import math

from ... import nn
from ...nn import functional as F
from ...ops import cat
from ..registry import register_model
from .backbone import vgg16_features

# features index of the ReLU after conv2_2, conv3_3, conv4_3, conv5_3 in VGG-16
TAPS = {"conv2_2": 8, "conv3_3": 15, "conv4_3": 22, "conv5_3": 29}
CHANNELS = {"conv2_2": 128, "conv3_3": 256, "conv4_3": 512, "conv5_3": 512}


class HypercolumnVGG16(nn.Module):
    def __init__(self, num_classes=21, layers=tuple(TAPS), stride=4):
        super().__init__()
        unknown = [layer for layer in layers if layer not in TAPS]
        if unknown or not layers:
            raise ValueError(f"layers: expected names among {list(TAPS)}, got {list(layers)}")
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride: expected a positive int, got {stride!r}")
        self.layers = tuple(sorted(layers, key=TAPS.get))
        self.stride = stride
        last = TAPS[self.layers[-1]]
        self.features = nn.Sequential(*list(vgg16_features())[:last + 1])
        self.classifier = nn.Conv2d(sum(CHANNELS[layer] for layer in self.layers), num_classes, 1)

    def hypercolumns(self, x):
        """(N, sum of the taps' channels, ceil(H / stride), ceil(W / stride))."""
        grid = (math.ceil(x.shape[2] / self.stride), math.ceil(x.shape[3] / self.stride))
        wanted = {TAPS[layer] for layer in self.layers}
        columns = []
        for index, module in enumerate(self.features):
            x = module(x)
            if index in wanted:
                columns.append(F.interpolate(x, size=grid, mode="bilinear", align_corners=False))
        return cat(columns, dim=1)

    def forward(self, x):
        scores = self.classifier(self.hypercolumns(x))
        return F.interpolate(scores, size=x.shape[-2:], mode="bilinear", align_corners=False)


@register_model
def hypercolumn_vgg16(num_classes=21, layers=tuple(TAPS), stride=4):
    """Hypercolumns of VGG-16's conv2_2 ... conv5_3 with a per-pixel linear classifier."""
    return HypercolumnVGG16(num_classes, layers, stride)
