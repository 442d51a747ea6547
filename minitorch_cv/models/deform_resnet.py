"""Deformable ResNet-50: DCNv2's ImageNet setting on torchvision's ResNet-50.

Dai et al. 2017, "Deformable convolutional networks"; Zhu, Hu, Lin & Dai 2019,
"Deformable ConvNets v2: more deformable, better results".

A convolution reads its input on a fixed grid, whatever the object under it. A deformable
convolution moves each tap of each output position by a learned offset, predicted from
the input itself by a small convolution, so the receptive field follows the object's
shape and scale; DCNv2 also weighs each tap by a learned modulation mask in (0, 1). For
ImageNet, DCNv2 makes every 3x3 convolution of the stages conv3 to conv5 of ResNet-50
modulated deformable. Here that is torchvision's ResNet-50 (models/resnet.py, its blocks
unchanged) whose bottlenecks in layer2, layer3 and layer4 have a ModulatedDeformConv2d
(nn/deform_conv.py) as conv2, with the width, stride and dilation of the convolution it
replaces:

    stage    torchvision  blocks  conv2 (3x3)                 offset predictor conv2.conv_offset
    conv2_x  layer1       3       64 -> 64, regular           -
    conv3_x  layer2       4       128 -> 128, deformable      Conv2d(128, 27, 3): 31,131 parameters
    conv4_x  layer3       6       256 -> 256, deformable      Conv2d(256, 27, 3): 62,235
    conv5_x  layer4       3       512 -> 512, deformable      Conv2d(512, 27, 3): 124,443
    (the first block of layers 2-4 has stride 2 on its conv2; 27 = 3 * 3*3: dh, dw and mask per tap)

Parameters: resnet50's 25,557,032 plus 4*31,131 + 6*62,235 + 3*124,443 = 871,263 for the 13
offset predictors: 26,428,295.

Names: resnet50's state_dict keys plus ``layerI.J.conv2.conv_offset.weight`` and ``.bias``
for the 13 deformable convolutions, so torchvision's ResNet-50 weights load with
``strict=False`` and the predictors stay at zero, which is how DCNv2 starts from an
ImageNet model. Initialisation: torchvision's for everything resnet50 has (a deformable
conv2 keeps the He-normal weight drawn for the convolution it replaces); the predictors
zero, as in the paper: the network starts as ResNet-50 with those 13 convolutions at half
weight (masks sigmoid(0) = 1/2), a factor the BatchNorm after each removes in training.
"""
from .. import nn
from .registry import register_model
from .resnet import resnet50


def modulated_deformable(conv):
    """A ModulatedDeformConv2d with the geometry of ``conv`` (an nn.Conv2d without bias),
    sharing its weight Parameter; its offset predictor starts at zero."""
    deformable = nn.ModulatedDeformConv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                                          conv.stride, conv.padding, conv.dilation, conv.groups,
                                          bias=False)
    deformable.weight = conv.weight
    return deformable


@register_model
def deform_resnet50(*, weights=None, progress=True, **kwargs):
    """ResNet-50 whose 3x3 convolutions in layer2-layer4 (conv3_x-conv5_x) are modulated
    deformable (DCNv2); torchvision's resnet50 keywords; 26,428,295 parameters."""
    model = resnet50(weights=weights, progress=progress, **kwargs)
    for stage in (model.layer2, model.layer3, model.layer4):
        for block in stage:
            block.conv2 = modulated_deformable(block.conv2)
    return model
