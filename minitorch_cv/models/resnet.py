"""The ImageNet residual networks, exactly as torchvision builds them.

He et al. 2015, "Deep residual learning for image recognition" (ResNet); Xie et al. 2017,
"Aggregated residual transformations for deep neural networks" (ResNeXt); Zagoruyko &
Komodakis 2016, "Wide residual networks" (the wide bottleneck variants).

A residual block learns a correction F(x) to its input instead of a whole new mapping,
out = relu(F(x) + x): the identity is free, so very deep stacks train as easily as
shallow ones. ResNeXt splits the 3x3 convolution of the bottleneck into G parallel groups
(a grouped convolution, "cardinality" G); the wide variants double its width.

    name                 block       blocks/stage    groups  width/group  parameters
    resnet18             basic       [2, 2, 2, 2]       1        64       11,689,512
    resnet34             basic       [3, 4, 6, 3]       1        64       21,797,672
    resnet50             bottleneck  [3, 4, 6, 3]       1        64       25,557,032
    resnet101            bottleneck  [3, 4, 23, 3]      1        64       44,549,160
    resnet152            bottleneck  [3, 8, 36, 3]      1        64       60,192,808
    resnext50_32x4d      bottleneck  [3, 4, 6, 3]      32         4       25,028,904
    resnext101_32x8d     bottleneck  [3, 4, 23, 3]     32         8       88,791,336
    resnext101_64x4d     bottleneck  [3, 4, 23, 3]     64         4       83,455,272
    wide_resnet50_2      bottleneck  [3, 4, 6, 3]       1       128       68,883,240
    wide_resnet101_2     bottleneck  [3, 4, 23, 3]      1       128      126,886,696

The network (224x224 input; S = 1 where replace_stride_with_dilation dilates instead):

    conv1 7x7/2, 64 -> bn1 -> relu -> maxpool 3x3/2                (N, 64, 56, 56)
    layer1: blocks,  64 planes, stride 1                           (N, 64E, 56, 56)
    layer2: blocks, 128 planes, stride 2                           (N, 128E, 28, 28)
    layer3: blocks, 256 planes, stride 2                           (N, 256E, 14, 14)
    layer4: blocks, 512 planes, stride 2                           (N, 512E, 7, 7)
    avgpool (adaptive, 1x1) -> flatten -> fc 512E -> num_classes

E is the block's expansion: 1 for the basic block (two 3x3 convolutions), 4 for the
bottleneck (1x1 down to width = planes * width_per_group / 64 * groups, 3x3 with the
stride, the groups and the dilation, 1x1 up to 4 planes). The stride sits on the 3x3
convolution (torchvision's "ResNet v1.5"; the paper puts it on the first 1x1). Where a
block changes the shape the shortcut is ``downsample = Sequential(conv 1x1 with the
stride, norm)``. ``replace_stride_with_dilation[i]`` turns the stride 2 of layer i + 2
into a dilation (the output stays larger, for dense prediction): the first block of that
stage keeps the previous dilation, the others use the new one.

Initialization as torchvision: convolutions He normal (fan_out, relu), norms weight 1
and bias 0, fc PyTorch's default; ``zero_init_residual`` zeroes the last norm of each
block. The CIFAR variants ``cifar_resnet18/34/50`` (3x3 stem, no max-pool, 10 classes)
are at the end of this file.
"""
from .. import nn
from .registry import check_no_weights, register_model, set_named_arguments
from .weight_init import init_resnet_


def conv3x3(in_channels, out_channels, stride=1, groups=1, dilation=1):
    """3x3 convolution whose padding (= the dilation) keeps the size at stride 1; no
    bias: a norm follows, whose bias replaces it."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """out = relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)); two 3x3 convs."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)

    def zero_init_last(self):
        if self.bn2.weight is not None:
            nn.init.zeros_(self.bn2.weight)


class Bottleneck(nn.Module):
    """out = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + downsample(x)):
    1x1 to ``width``, 3x3 (stride, groups, dilation), 1x1 to ``planes * 4``, where
    width = int(planes * base_width / 64) * groups."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)

    def zero_init_last(self):
        if self.bn3.weight is not None:
            nn.init.zeros_(self.bn3.weight)


class ResNet(nn.Module):
    """torchvision's ResNet of ``block`` with ``layers`` blocks in each of the four stages
    (see the module docstring for every argument)."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        if len(layers) != 4:
            raise ValueError(f"layers: expected 4 block counts, got {layers!r}")
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                "replace_stride_with_dilation should be None "
                f"or a 3-element tuple, got {replace_stride_with_dilation}"
            )
        self.inplanes = 64
        self.dilation = 1
        self.groups = groups
        self.base_width = width_per_group
        conv1, maxpool = self._stem()
        self.conv1 = conv1
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = maxpool
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2, replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_resnet_(self, zero_init_residual)

    def _stem(self):
        """conv1 and maxpool: 7x7/2 and 3x3/2, a quarter of the input size."""
        conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        return conv1, nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:  # keep the resolution: dilate by the stride instead of striding
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x).flatten(1)
        return self.fc(x)


def _resnet(block, layers, weights, **kwargs):
    check_no_weights(weights)
    return ResNet(block, layers, **kwargs)


@register_model
def resnet18(*, weights=None, progress=True, **kwargs):
    """ResNet-18: basic blocks [2, 2, 2, 2]; 11,689,512 parameters."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, **kwargs)


@register_model
def resnet34(*, weights=None, progress=True, **kwargs):
    """ResNet-34: basic blocks [3, 4, 6, 3]; 21,797,672 parameters."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, **kwargs)


@register_model
def resnet50(*, weights=None, progress=True, **kwargs):
    """ResNet-50: bottlenecks [3, 4, 6, 3]; 25,557,032 parameters."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, **kwargs)


@register_model
def resnet101(*, weights=None, progress=True, **kwargs):
    """ResNet-101: bottlenecks [3, 4, 23, 3]; 44,549,160 parameters."""
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, **kwargs)


@register_model
def resnet152(*, weights=None, progress=True, **kwargs):
    """ResNet-152: bottlenecks [3, 8, 36, 3]; 60,192,808 parameters."""
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, **kwargs)


@register_model
def resnext50_32x4d(*, weights=None, progress=True, **kwargs):
    """ResNeXt-50 32x4d: ResNet-50 with 32 groups of 4 channels per group (at 64 planes)."""
    set_named_arguments(kwargs, groups=32, width_per_group=4)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, **kwargs)


@register_model
def resnext101_32x8d(*, weights=None, progress=True, **kwargs):
    """ResNeXt-101 32x8d."""
    set_named_arguments(kwargs, groups=32, width_per_group=8)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, **kwargs)


@register_model
def resnext101_64x4d(*, weights=None, progress=True, **kwargs):
    """ResNeXt-101 64x4d."""
    set_named_arguments(kwargs, groups=64, width_per_group=4)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, **kwargs)


@register_model
def wide_resnet50_2(*, weights=None, progress=True, **kwargs):
    """Wide ResNet-50-2: ResNet-50 with bottlenecks twice as wide (the outer 1x1
    convolutions keep their sizes)."""
    set_named_arguments(kwargs, width_per_group=64 * 2)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, **kwargs)


@register_model
def wide_resnet101_2(*, weights=None, progress=True, **kwargs):
    """Wide ResNet-101-2."""
    set_named_arguments(kwargs, width_per_group=64 * 2)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, **kwargs)


# ------------------------------------------------------------ CIFAR variants
class CifarStemResNet(ResNet):
    """torchvision's ResNet with a stem for 32x32 images: conv1 3x3 stride 1 and no
    max-pool (``maxpool`` is the identity), so layer1 sees 32x32 and layer4 4x4 maps.
    Names and every other layer are ResNet's, so state_dict keys match torchvision's
    (conv1.weight is (64, 3, 3, 3) instead of (64, 3, 7, 7))."""

    def _stem(self):
        return conv3x3(3, self.inplanes), nn.Identity()


@register_model
def cifar_resnet18(num_classes=10, zero_init_residual=False):
    """ResNet-18 with the CIFAR stem: basic blocks [2, 2, 2, 2]; 11,173,962 parameters."""
    return CifarStemResNet(BasicBlock, [2, 2, 2, 2], num_classes, zero_init_residual)


@register_model
def cifar_resnet34(num_classes=10, zero_init_residual=False):
    """ResNet-34 with the CIFAR stem: basic blocks [3, 4, 6, 3]; 21,282,122 parameters."""
    return CifarStemResNet(BasicBlock, [3, 4, 6, 3], num_classes, zero_init_residual)


@register_model
def cifar_resnet50(num_classes=10, zero_init_residual=False):
    """ResNet-50 with the CIFAR stem: bottlenecks [3, 4, 6, 3]; 23,520,842 parameters."""
    return CifarStemResNet(Bottleneck, [3, 4, 6, 3], num_classes, zero_init_residual)
