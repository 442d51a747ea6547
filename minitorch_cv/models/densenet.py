"""DenseNet (Huang, Liu, van der Maaten and Weinberger 2017, "Densely connected
convolutional networks"): densenet121, densenet161, densenet169, densenet201
(torchvision's) and densenet_bc_100_k12 (the paper's CIFAR DenseNet-BC).

Idea: inside a dense block every layer receives the feature maps of ALL the layers
before it, concatenated along the channels, and adds k new maps (k, the growth rate):
layer l of a block that starts with C0 channels reads C0 + l*k channels. Features are
reused instead of re-learned, so the layers can be narrow (k = 12 to 48) and the
network small for its depth. "BC" = Bottleneck (each layer is BN-ReLU-conv1x1 to 4k
channels, then BN-ReLU-conv3x3 to k) + Compression (each transition halves the
channels). Between blocks a transition (BN-ReLU-conv1x1, 2x2 average pool) halves the
resolution.

ImageNet networks (torchvision; input 224x224; growth k, bottleneck 4k):

    features.conv0       7x7 conv, stride 2, 2k channels (96 for densenet161) 112x112
    norm0, relu0, pool0  BN, ReLU, 3x3 max pool stride 2                     56x56
    denseblock1          L1 layers  [BN-ReLU-conv1x1 4k, BN-ReLU-conv3x3 k]  56x56
    transition1          BN-ReLU-conv1x1 (channels / 2), 2x2 avg pool        28x28
    denseblock2, transition2                                                 14x14
    denseblock3, transition3                                                  7x7
    denseblock4, norm5   BN; then ReLU, global average pool, classifier (Linear)

    name          k    blocks (L1..L4)   params (1000 classes)
    densenet121   32   6, 12, 24, 16      7,978,856
    densenet161   48   6, 12, 36, 24     28,681,000
    densenet169   32   6, 12, 32, 32     14,149,480
    densenet201   32   6, 12, 48, 32     20,013,928

CIFAR DenseNet-BC (the paper, section 3 and Table 2; input 32x32): a 3x3 convolution
to 2k = 24 channels (no BN, no pooling), three dense blocks of (100 - 4) / 6 = 16
bottleneck layers with k = 12 at 32x32, 16x16 and 8x8, transitions with compression
0.5, then BN-ReLU, global average pool and a Linear: 769,162 parameters at 10 classes.

How the features are kept (memory). A block keeps a Python list of the maps it has
made: the block input and each layer's k new channels, each stored once. Layer l
concatenates the list (``cat``: one new array of C0 + l*k channels) as the input of its
BN. With the default ``memory_efficient=False`` (torchvision's default) that
concatenation stays alive until the backward pass, as BN's saved input, beside the
ReLU's output that the 1x1 convolution saves: about 2 * sum_l (C0 + l*k) channels per
block, quadratic in the number of layers (as in torchvision and the paper's Torch
code). With ``memory_efficient=True`` (Pleiss et al. 2017, "Memory-efficient
implementation of DenseNets"; torchvision's flag) the concatenation, BN, ReLU and 1x1
convolution of each layer run under gradient checkpointing
(``minitorch_cv.autograd.checkpoint``): only the list (linear in the number of layers)
and the 4k-channel bottleneck outputs are kept, and the concatenation is rebuilt one
layer at a time during the backward pass, for one more forward of those layers. Either
way no map is ever copied into a longer concatenation that is then copied again.
``benchmarks/bench_densenet_memory.py`` measures both for DenseNet-121.

Module and state_dict names are torchvision's ("features.denseblock1.denselayer1.norm1.
weight", "features.transition1.conv.weight", "features.norm5.running_var",
"classifier.bias"), and so is the initialization: kaiming_normal_ (fan_in) for every
convolution, BN weight 1 and bias 0, Linear bias 0 (its weight keeps Linear's default).
"""
from collections import OrderedDict

from .. import Tensor, cat, nn
from ..autograd.checkpoint import checkpoint
from ..nn import functional as F
from .registry import check_no_weights, register_model


class _DenseLayer(nn.Module):
    """new = conv2(relu2(norm2(conv1(relu1(norm1(cat(features))))))): k new channels
    from every earlier map of the block (dropout on them when drop_rate > 0)."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate, memory_efficient=False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs):
        """The bottleneck: the concatenated features -> BN -> ReLU -> 1x1 conv (bn_size * k)."""
        concatenated = cat(list(inputs), 1)
        return self.conv1(self.relu1(self.norm1(concatenated)))

    def forward(self, input):  # noqa: A002 - torchvision's argument name
        features = [input] if isinstance(input, Tensor) else list(input)
        if self.memory_efficient:
            # Recomputed in backward instead of stored (checkpoint calls bn_function
            # directly when no feature needs a gradient)
            bottleneck = checkpoint(lambda *maps: self.bn_function(maps), *features)
        else:
            bottleneck = self.bn_function(features)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    """denselayer1 ... denselayerL; returns the block input and every layer's new maps,
    concatenated (C0 + L*k channels)."""

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate,
                 memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(
                num_input_features + i * growth_rate,
                growth_rate=growth_rate,
                bn_size=bn_size,
                drop_rate=drop_rate,
                memory_efficient=memory_efficient,
            )
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features):
        features = [init_features]  # each map once; see the module docstring
        for layer in self.values():
            features.append(layer(features))
        return cat(features, 1)


class _Transition(nn.Sequential):
    """BN -> ReLU -> 1x1 conv (compression) -> 2x2 average pool, stride 2."""

    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """torchvision's DenseNet-BC (see the module docstring for the table).

    growth_rate: k; block_config: layers per dense block (4 for ImageNet; the CIFAR
    network has 3); num_init_features: channels of the first convolution; bn_size:
    bottleneck width in units of k; drop_rate: dropout after each dense layer;
    memory_efficient: gradient checkpointing of the bottlenecks (see above).
    small_inputs (not in torchvision): the CIFAR stem, a 3x3 convolution with stride 1
    and no BN, ReLU or pooling after it.
    """

    def __init__(
        self,
        growth_rate=32,
        block_config=(6, 12, 24, 16),
        num_init_features=64,
        bn_size=4,
        drop_rate=0,
        num_classes=1000,
        memory_efficient=False,
        *,
        small_inputs=False,
    ):
        super().__init__()
        if small_inputs:
            stem = [("conv0", nn.Conv2d(3, num_init_features, kernel_size=3, stride=1, padding=1, bias=False))]
        else:
            stem = [
                ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
                ("norm0", nn.BatchNorm2d(num_init_features)),
                ("relu0", nn.ReLU(inplace=True)),
                ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
            ]
        self.features = nn.Sequential(OrderedDict(stem))

        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate, memory_efficient)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                transition = _Transition(num_features, num_features // 2)
                self.features.add_module(f"transition{i + 1}", transition)
                num_features //= 2
        # torchvision's name for 4 blocks ("norm5"); "norm4" after the CIFAR net's 3
        self.features.add_module(f"norm{len(block_config) + 1}", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)

        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.constant_(module.bias, 0)

    def forward(self, x):
        features = self.features(x)
        out = F.relu(features)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = out.flatten(1)
        return self.classifier(out)


def _densenet(growth_rate, block_config, num_init_features, weights, **kwargs):
    check_no_weights(weights)
    return DenseNet(growth_rate, block_config, num_init_features, **kwargs)


@register_model
def densenet121(*, weights=None, progress=True, **kwargs):
    """DenseNet-121: k = 32, blocks (6, 12, 24, 16); 7,978,856 parameters."""
    return _densenet(32, (6, 12, 24, 16), 64, weights, **kwargs)


@register_model
def densenet161(*, weights=None, progress=True, **kwargs):
    """DenseNet-161: k = 48, blocks (6, 12, 36, 24), 96 initial features; 28,681,000."""
    return _densenet(48, (6, 12, 36, 24), 96, weights, **kwargs)


@register_model
def densenet169(*, weights=None, progress=True, **kwargs):
    """DenseNet-169: k = 32, blocks (6, 12, 32, 32); 14,149,480 parameters."""
    return _densenet(32, (6, 12, 32, 32), 64, weights, **kwargs)


@register_model
def densenet201(*, weights=None, progress=True, **kwargs):
    """DenseNet-201: k = 32, blocks (6, 12, 48, 32); 20,013,928 parameters."""
    return _densenet(32, (6, 12, 48, 32), 64, weights, **kwargs)


@register_model
def densenet_bc_100_k12(*, num_classes=10, drop_rate=0.0, memory_efficient=False):
    """The paper's CIFAR DenseNet-BC, depth 100, k = 12: 769,162 parameters at 10
    classes. drop_rate: the paper uses 0.2 when training without data augmentation."""
    depth = 100
    layers_per_block = (depth - 4) // 6  # 3 blocks of bottleneck layers (2 convs each)
    return DenseNet(
        growth_rate=12,
        block_config=(layers_per_block,) * 3,
        num_init_features=2 * 12,
        bn_size=4,
        drop_rate=drop_rate,
        num_classes=num_classes,
        memory_efficient=memory_efficient,
        small_inputs=True,
    )
