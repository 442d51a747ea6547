"""DeepLabv3+ (Chen, Zhu, Papandreou, Schroff & Adam 2018, "Encoder-Decoder with Atrous
Separable Convolution for Semantic Image Segmentation") on ResNet-50:
deeplabv3plus_resnet50.

The ideas. DeepLabv3's ASPP sees context at several scales but its output is 16 or 8
times coarser than the image, and a bilinear upsampling by 16 blurs object boundaries.
DeepLabv3+ adds a light decoder: the encoder's output is upsampled x4 and concatenated
with the backbone's stride-4 features (reduced to 48 channels by a 1x1 convolution so
that they do not outweigh the 256 of the encoder), two 3x3 convolutions refine the
result, and only then are the scores upsampled x4 to the image. Its 3x3 convolutions, in
the ASPP and the decoder, are atrous separable convolutions: a depthwise 3x3 convolution
(one filter per channel, dilated) followed by a pointwise 1x1 one, each with BatchNorm
and ReLU, which costs about 1/9 + 1/C of a full 3x3 convolution.

    backbone  ResNet-50; output stride 16 (layer4 dilated) or 8 (layer3 and layer4)
              layer1 (N, 256, H/4, W/4)  "low_level";  layer4 (N, 2048, H/s, W/s)  "out"
    aspp      ASPP as DeepLabv3's (1x1, three 3x3 rates 6/12/18 at stride 16 or 12/24/36
              at stride 8, image pooling; 256 channels each) with separable 3x3
              branches; fusion 1x1 256, BN, ReLU, dropout 0.1 (the authors' code)
    decoder   project: conv 1x1 256 -> 48 (no bias), BN, ReLU on low_level
              upsample the ASPP output bilinearly to H/4, concat (304 channels)
              fuse: 2x separable conv 3x3 -> 256; classifier: conv 1x1 -> num_classes
    output    bilinear to H x W, {"out": (N, num_classes, H, W)} as torchvision's DeepLab

Not in torchvision; module names follow its DeepLab where the parts are the same
(``backbone.layer1...``, ``aspp.convs.1...``). 26,696,133 parameters at 21 classes and
output stride 16 (the backbone without its classifier: 23,508,032).
"""
from ... import nn
from ...nn import functional as F
from ...ops import cat
from ..registry import check_no_weights, register_model
from ..resnet import resnet50
from .backbone import IntermediateLayerGetter
from .deeplabv3 import ASPP

# output stride -> (replace_stride_with_dilation, ASPP rates)
OUTPUT_STRIDES = {16: ([False, False, True], (6, 12, 18)), 8: ([False, True, True], (12, 24, 36))}


class SeparableConv2d(nn.Sequential):
    """Atrous separable convolution: depthwise 3x3 dilated by ``dilation`` (groups =
    in_channels, no bias) -> BN -> ReLU -> pointwise 1x1 (no bias) -> BN -> ReLU."""

    def __init__(self, in_channels, out_channels, dilation=1):
        super().__init__(
            nn.Conv2d(in_channels, in_channels, 3, padding=dilation, dilation=dilation,
                      groups=in_channels, bias=False),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class Decoder(nn.Module):
    """The encoder's output upsampled to the low-level features' size, concatenated with
    their 48-channel projection, refined by two separable convolutions, classified."""

    def __init__(self, low_level_channels, num_classes, channels=256, reduced=48):
        super().__init__()
        self.project = nn.Sequential(nn.Conv2d(low_level_channels, reduced, 1, bias=False),
                                     nn.BatchNorm2d(reduced), nn.ReLU())
        self.fuse = nn.Sequential(SeparableConv2d(channels + reduced, channels),
                                  SeparableConv2d(channels, channels))
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, x, low_level):
        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)
        return self.classifier(self.fuse(cat([x, self.project(low_level)], dim=1)))


class DeepLabV3Plus(nn.Module):
    """backbone -> aspp -> decoder -> bilinear to the input; returns {"out"}."""

    def __init__(self, backbone, num_classes, atrous_rates):
        super().__init__()
        self.backbone = IntermediateLayerGetter(backbone, {"layer1": "low_level", "layer4": "out"})
        self.aspp = ASPP(2048, atrous_rates, atrous_conv=SeparableConv2d, dropout=0.1)
        self.decoder = Decoder(256, num_classes)

    def forward(self, x):
        features = self.backbone(x)
        scores = self.decoder(self.aspp(features["out"]), features["low_level"])
        return {"out": F.interpolate(scores, size=x.shape[-2:], mode="bilinear",
                                     align_corners=False)}


@register_model
def deeplabv3plus_resnet50(*, weights=None, progress=True, num_classes=21, output_stride=16,
                           weights_backbone=None):
    """DeepLabv3+ on ResNet-50 at output stride 16 (or 8); see the module docstring."""
    check_no_weights(weights)
    check_no_weights(weights_backbone)
    if output_stride not in OUTPUT_STRIDES:
        raise ValueError(f"output_stride: expected 8 or 16, got {output_stride!r}")
    dilation, rates = OUTPUT_STRIDES[output_stride]
    backbone = resnet50(weights=None, replace_stride_with_dilation=dilation)
    return DeepLabV3Plus(backbone, num_classes, rates)
