"""FCN-32s, FCN-16s and FCN-8s (Long, Shelhamer & Darrell 2015, "Fully Convolutional
Networks for Semantic Segmentation"), on VGG-16 as in the paper.

The ideas. (1) A classification network's fully connected layers are convolutions whose
kernels cover their whole input: fc6 (25088 -> 4096 on VGG-16's 7x7x512 pool5) is a 7x7
convolution, fc7 a 1x1 one (``convolutionalize_`` copies a VGG-16 into an FCN that way),
so the network takes an image of any size and returns a map of class scores, one per
32x32 block. (2) Upsampling is a transposed convolution whose filter is bilinear
interpolation. (3) Skip connections: the coarse scores are refined by scores read from
pool4 (stride 16) and pool3 (stride 8), summed after aligning the maps.

    input (N, 3, H, W), zero-padded by 100 pixels (see below)
    VGG-16 features conv1_1 ... pool5, max pooling with ceil mode          (torchvision's
                                                                            module names)
    fc6  conv 7x7 512 -> 4096, ReLU, dropout 0.5
    fc7  conv 1x1 4096 -> 4096, ReLU, dropout 0.5
    score_fr conv 1x1 -> K                                                  stride 32
    FCN-32s: upscore x32 (64x64 kernel)               crop 19 -> (N, K, H, W)
    FCN-16s: upscore2 x2 (4x4) + crop(score_pool4 = conv 1x1 on pool4, 5)   stride 16
             upscore x16 (32x32)                      crop 27 -> (N, K, H, W)
    FCN-8s:  ... + upscore_pool4 x2 + crop(score_pool3 = conv 1x1 on pool3, 9)
             upscore x8 (16x16)                       crop 31 -> (N, K, H, W)

Padding and crops: the paper's. fc6 is a 7x7 convolution without padding on the stride-32
map, so a small image would leave nothing for it; the first convolution pads the image
by 100 pixels (here: 99 zero pixels added around the input, then conv1_1's own padding of
1) so that any image of at least one pixel gives a score map, and every fused or final
map is cropped at the offset where its pixels line up with the other map's or the
image's: offsets 5 and 9 for the pool4 and pool3 scores, 19, 27 and 31 for the outputs.
They follow from each layer's stride and padding (pixel centres: conv1_1 maps y to
y - 99, each pool to 2 y + 0.5, fc6 to y + 3, an upsampling by f with a 2f kernel to
f y + f - 0.5), and they hold only if a pooling of an odd size keeps the last partial
window, as Caffe's pooling does: the pools here use ``ceil_mode=True``. We keep the
paper's scheme, rather than a "padded" variant (fc6 padded by 3 and a final resize),
because it is the paper's network exactly, with the paper's score-map geometry, and the
offsets are a lesson in how a fully convolutional network's maps line up; its cost is
the larger maps (a 500x500 image runs as 698x698).

The upsampling filters are fixed bilinear interpolation, stored as buffers
(``BilinearUpsampling``), not parameters: 134,346,581 / 134,357,354 / 134,362,751
trainable parameters at 21 classes (Pascal VOC). (The paper learns the x2 steps from a
bilinear start; fixed filters keep the counts of the issue's table and lose little.)
Initialization: VGG-16 as torchvision's (He for the convolutions), fc6 and fc7 as
torchvision's VGG classifier (N(0, 0.01)), the score layers zero, as the paper.
"""
import numpy as np

from ... import nn
from ...nn import functional as F
from ...tensor import Tensor
from ..registry import register_model
from .backbone import vgg16_features

PAD = 99  # plus conv1_1's own 1: the paper's 100
# (VGG-16 feature index after which the map is taken, its name)
POOL3, POOL4 = 16, 23
# crop offsets of the paper's prototxts
OFFSETS = {"score_pool4": 5, "score_pool3": 9, "32s": 19, "16s": 27, "8s": 31}


def bilinear_kernel(size):
    """(size, size) weights of bilinear upsampling by ``factor = ceil(size / 2)``:
    w[i, j] = (1 - |i - c| / factor) (1 - |j - c| / factor), c the kernel's centre."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    ramp = 1 - np.abs(np.arange(size) - center) / factor
    return np.outer(ramp, ramp)


class BilinearUpsampling(nn.Module):
    """Upsampling of every channel by ``factor`` with a fixed bilinear filter: a
    transposed convolution (kernel 2 factor, stride factor, one filter per channel:
    groups = channels) whose weight is a buffer, not a parameter. Output size
    (H - 1) factor + 2 factor."""

    def __init__(self, channels, factor):
        super().__init__()
        self.channels, self.factor = channels, factor
        kernel = bilinear_kernel(2 * factor).astype(np.float32)
        weight = np.broadcast_to(kernel, (channels, 1) + kernel.shape).copy()
        self.register_buffer("weight", Tensor(weight), persistent=False)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, stride=self.factor, groups=self.channels)

    def extra_repr(self):
        return f"channels={self.channels}, factor={self.factor}"


def _crop(x, offset, height, width):
    return x[:, :, offset:offset + height, offset:offset + width]


class FCNVGG16(nn.Module):
    """Long et al.'s FCN on VGG-16; ``variant`` "32s", "16s" or "8s" (see the module
    docstring)."""

    def __init__(self, variant="8s", num_classes=21, dropout=0.5):
        super().__init__()
        if variant not in ("32s", "16s", "8s"):
            raise ValueError(f"variant: expected '32s', '16s' or '8s', got {variant!r}")
        self.variant = variant
        self.features = vgg16_features()
        for module in self.features:
            if isinstance(module, nn.MaxPool2d):
                module.ceil_mode = True  # Caffe's pooling: the offsets rely on it
        self.fc6 = nn.Conv2d(512, 4096, 7)
        self.relu6 = nn.ReLU()
        self.drop6 = nn.Dropout(dropout)
        self.fc7 = nn.Conv2d(4096, 4096, 1)
        self.relu7 = nn.ReLU()
        self.drop7 = nn.Dropout(dropout)
        self.score_fr = nn.Conv2d(4096, num_classes, 1)
        scores = [self.score_fr]
        if variant in ("16s", "8s"):
            self.score_pool4 = nn.Conv2d(512, num_classes, 1)
            self.upscore2 = BilinearUpsampling(num_classes, 2)
            scores.append(self.score_pool4)
        if variant == "8s":
            self.score_pool3 = nn.Conv2d(256, num_classes, 1)
            self.upscore_pool4 = BilinearUpsampling(num_classes, 2)
            scores.append(self.score_pool3)
        self.upscore = BilinearUpsampling(num_classes, int(variant[:-1]))
        for fc in (self.fc6, self.fc7):
            nn.init.normal_(fc.weight, 0.0, 0.01)
            nn.init.zeros_(fc.bias)
        for score in scores:  # "zero-initializing the class scoring layer"
            nn.init.zeros_(score.weight)
            nn.init.zeros_(score.bias)

    def forward(self, x):
        H, W = x.shape[2:]
        h = F.pad(x, (PAD, PAD, PAD, PAD))
        taps = {}
        for index, module in enumerate(self.features):
            h = module(h)
            if index in (POOL3, POOL4):
                taps[index] = h
        h = self.drop6(self.relu6(self.fc6(h)))
        h = self.drop7(self.relu7(self.fc7(h)))
        h = self.score_fr(h)
        if self.variant != "32s":
            h = self.upscore2(h)
            pool4 = self.score_pool4(taps[POOL4])
            h = h + _crop(pool4, OFFSETS["score_pool4"], *h.shape[2:])
        if self.variant == "8s":
            h = self.upscore_pool4(h)
            pool3 = self.score_pool3(taps[POOL3])
            h = h + _crop(pool3, OFFSETS["score_pool3"], *h.shape[2:])
        return _crop(self.upscore(h), OFFSETS[self.variant], H, W)


def convolutionalize_(fcn, vgg):
    """Load a VGG-16 classifier's weights into ``fcn`` in place (the paper's starting
    point): the convolutions as they are, fc6 = classifier.0 (4096 x 25088) reshaped to
    4096 x 512 x 7 x 7, fc7 = classifier.3 reshaped to 4096 x 4096 x 1 x 1. The score
    layers stay as they are (VGG's 1000-class layer is dropped). Returns ``fcn``."""
    state = vgg.state_dict()
    loaded = {f"features.{key[len('features.'):]}": value for key, value in state.items()
              if key.startswith("features.")}
    for fc, source in (("fc6", "classifier.0"), ("fc7", "classifier.3")):
        shape = getattr(fcn, fc).weight.shape
        loaded[f"{fc}.weight"] = state[f"{source}.weight"].reshape(shape)
        loaded[f"{fc}.bias"] = state[f"{source}.bias"]
    own = fcn.state_dict()
    own.update(loaded)
    fcn.load_state_dict(own)
    return fcn


@register_model
def fcn32s(num_classes=21, dropout=0.5):
    """FCN-32s: VGG-16, one x32 bilinear upsampling of the stride-32 scores."""
    return FCNVGG16("32s", num_classes, dropout)


@register_model
def fcn16s(num_classes=21, dropout=0.5):
    """FCN-16s: FCN-32s's scores x2, plus pool4's scores, upsampled x16."""
    return FCNVGG16("16s", num_classes, dropout)


@register_model
def fcn8s(num_classes=21, dropout=0.5):
    """FCN-8s: FCN-16s's fused scores x2, plus pool3's scores, upsampled x8."""
    return FCNVGG16("8s", num_classes, dropout)
