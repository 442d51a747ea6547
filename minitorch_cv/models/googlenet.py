"""GoogLeNet (Inception v1), exactly as torchvision builds it.

Szegedy et al. 2014, "Going deeper with convolutions".

An Inception module runs 1x1, 3x3 and 5x5 convolutions and a 3x3 max-pool side by side
on the same input and concatenates their outputs along the channels, so every stage sees
several scales at once; 1x1 convolutions in front of the larger filters (and after the
pool) reduce the channels first, which keeps 22 layers at 6.6M parameters. Two auxiliary
classifiers on intermediate stages add their losses (weight 0.3, ``googlenet_loss``)
during training to push gradient into the middle of the network; they are dropped at
inference.

    layer (224x224 input)           channels: 1x1 / 3x3 reduce, 3x3 / 5x5 reduce, 5x5 / pool proj   output
    conv1 7x7/2 -> maxpool1 3x3/2                                                          64 x 56 x 56
    conv2 1x1, conv3 3x3 -> maxpool2 3x3/2                                                192 x 28 x 28
    inception3a     64 /  96, 128 / 16,  32 /  32                                        256 x 28 x 28
    inception3b    128 / 128, 192 / 32,  96 /  64  -> maxpool3 3x3/2                     480 x 14 x 14
    inception4a    192 /  96, 208 / 16,  48 /  64   (-> aux1 in training)                512 x 14 x 14
    inception4b    160 / 112, 224 / 24,  64 /  64                                        512 x 14 x 14
    inception4c    128 / 128, 256 / 24,  64 /  64                                        512 x 14 x 14
    inception4d    112 / 144, 288 / 32,  64 /  64   (-> aux2 in training)                528 x 14 x 14
    inception4e    256 / 160, 320 / 32, 128 / 128  -> maxpool4 2x2/2                     832 x 7 x 7
    inception5a    256 / 160, 320 / 32, 128 / 128                                        832 x 7 x 7
    inception5b    384 / 192, 384 / 48, 128 / 128                                       1024 x 7 x 7
    avgpool (adaptive 1x1) -> dropout 0.2 -> fc 1024 -> num_classes
    aux: adaptive avg pool 4x4 -> conv 1x1, 128 -> fc 2048 -> 1024 -> relu -> dropout 0.7 -> fc

torchvision's departures from the paper, kept here so that its weights load: every
convolution is followed by BatchNorm (eps 0.001) and ReLU (``BasicConv2d``), the "5x5"
branch uses a 3x3 convolution (torchvision issue 906), max-pools use ceil_mode. In
training with ``aux_logits`` the model returns ``GoogLeNetOutputs(logits, aux_logits2,
aux_logits1)``, otherwise the logits. Parameters: 13,004,888 with the auxiliary heads
(the default), 6,624,904 without. Initialization (torchvision's): convolutions and
fully connected weights truncated normal (std 0.01, cut at +-2), BatchNorm 1 and 0,
fully connected biases PyTorch's default.
"""
from collections import namedtuple

from .. import nn
from ..nn import functional as F
from ..ops import cat
from .registry import check_no_weights, register_model

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


class BasicConv2d(nn.Module):
    """conv (no bias) -> BatchNorm (eps 0.001) -> ReLU; kwargs go to the convolution."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def transform_input(x):
    """Re-normalize images normalized with ImageNet's mean and std (what torchvision's
    transforms give) to the (x - 0.5) / 0.5 that the original weights were trained on:
    channel c becomes x_c * std_c / 0.5 + (mean_c - 0.5) / 0.5."""
    channels = []
    for c, (mean, std) in enumerate([(0.485, 0.229), (0.456, 0.224), (0.406, 0.225)]):
        channels.append(x[:, c:c + 1] * (std / 0.5) + (mean - 0.5) / 0.5)
    return cat(channels, 1)


class Inception(nn.Module):
    """Four branches concatenated: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 (the paper's 5x5) |
    maxpool 3x3/1 -> 1x1."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 conv_block=None):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            conv_block(in_channels, ch3x3red, kernel_size=1),
            conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            conv_block(in_channels, ch5x5red, kernel_size=1),
            conv_block(ch5x5red, ch5x5, kernel_size=3, padding=1),  # 3x3, as torchvision
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv_block(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """The auxiliary classifier: pool to 4x4, 1x1 conv to 128, two fully connected layers."""

    def __init__(self, in_channels, num_classes, conv_block=None, dropout=0.7):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.conv = conv_block(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4))).flatten(1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


class GoogLeNet(nn.Module):
    """torchvision's GoogLeNet (see the module docstring). ``init_weights=None`` means
    True (torchvision warns that its default may change; there is nothing to warn about
    here). ``blocks``: the classes [conv block, Inception, InceptionAux]."""

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False,
                 init_weights=None, blocks=None, dropout=0.2, dropout_aux=0.7):
        super().__init__()
        if blocks is None:
            blocks = [BasicConv2d, Inception, InceptionAux]
        if len(blocks) != 3:
            raise ValueError(f"blocks length should be 3 instead of {len(blocks)}")
        conv_block, inception_block, inception_aux_block = blocks
        self.aux_logits = aux_logits
        self.transform_input = transform_input

        self.conv1 = conv_block(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv_block(64, 64, kernel_size=1)
        self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception_block(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception_block(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception_block(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception_block(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception_block(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception_block(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception_block(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception_block(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception_block(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = inception_aux_block(512, num_classes, dropout=dropout_aux)
            self.aux2 = inception_aux_block(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)
        if init_weights is None or init_weights:
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    nn.init.trunc_normal_(module.weight, mean=0.0, std=0.01, a=-2, b=2)
                elif isinstance(module, nn.BatchNorm2d):
                    nn.init.constant_(module.weight, 1)
                    nn.init.constant_(module.bias, 0)

    def forward(self, x):
        if self.transform_input:
            x = transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        # the auxiliary heads run in training only: at inference they are dead weight
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.avgpool(x).flatten(1)
        x = self.fc(self.dropout(x))
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def googlenet_loss(outputs, target, aux_weight=0.3, **kwargs):
    """The paper's training loss: cross-entropy of the logits plus ``aux_weight`` (0.3)
    times that of each auxiliary classifier,

        loss = CE(logits) + 0.3 * (CE(aux_logits1) + CE(aux_logits2)),

    for the GoogLeNetOutputs of training mode; plain cross-entropy for plain logits
    (eval mode, or ``aux_logits=False``). ``kwargs`` go to ``F.cross_entropy``
    (``label_smoothing``, ...)."""
    if not isinstance(outputs, GoogLeNetOutputs):
        return F.cross_entropy(outputs, target, **kwargs)
    loss = F.cross_entropy(outputs.logits, target, **kwargs)
    for aux in (outputs.aux_logits1, outputs.aux_logits2):
        if aux is not None:
            loss = loss + aux_weight * F.cross_entropy(aux, target, **kwargs)
    return loss


@register_model
def googlenet(*, weights=None, progress=True, **kwargs):
    """GoogLeNet (torchvision's): 13,004,888 parameters with the auxiliary heads."""
    check_no_weights(weights)
    return GoogLeNet(**kwargs)
