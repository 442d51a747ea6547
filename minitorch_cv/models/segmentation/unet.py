"""U-Net (Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for
Biomedical Image Segmentation"), as published.

The idea: a contracting path (an ordinary CNN: convolutions and max pooling) captures
context, and a symmetric expanding path of up-convolutions recovers the resolution;
at every level the expanding path concatenates the contracting path's feature map of
the same scale ("copy and crop"), so the precise location of an edge seen early is
available to the layers that draw the output. With 3x3 convolutions and no padding,
every output pixel sees a full context, and a large image is segmented tile by tile
(the overlap-tile strategy: the missing context at the image border is mirrored).

The network of figure 1 (C = ``base_channels`` = 64; sizes for the paper's 572 tile):

    level  contracting path                 size   expanding path                    size
    1      enc1: 2x (conv 3x3, ReLU), C      568   up1: up-conv 2x2 -> C, crop, cat  392
           max pool 2x2                      284        dec1: 2x (conv 3x3, ReLU), C  388
    2      enc2: 2C                          280   up2 -> 2C (200), dec2: 2C          196
    3      enc3: 4C                          136   up3 -> 4C (104), dec3: 4C          100
    4      enc4: 8C, dropout                  64   up4 -> 8C  (56), dec4: 8C           52
           bottleneck: 2x conv, 16C, dropout  28
           classifier: conv 1x1 -> num_classes on dec1's output: 388 x 388

Each decoder level: up-conv (a 2x2 transposed convolution, stride 2, halving the
channels), the encoder map of that level center-cropped to the up-conv's size (its
border was lost to the unpadded convolutions), the two concatenated
([cropped skip, upsampled]), then two 3x3 convolutions with ReLU. Dropout (0.5) at the
end of the contracting path, where the paper's Caffe model puts it (after enc4 and the
bottleneck). 23 convolutional layers; 31,030,658 parameters for 1 input channel and 2
classes. An unpadded network loses 92 pixels on every side (``margin``), so a 572 tile
gives 388; the 2x2 poolings must see even sizes, which holds for inputs of
16k + 12 pixels (188, ..., 556, 572, 588, ...).

Options: ``padding=True`` pads every 3x3 convolution by 1 (the output has the input's
size, and any size works: where a pooling saw an odd size, the up-convolution's output is
one pixel short and is zero-padded at the bottom and right to the skip's size), and
``base_channels`` shrinks the widths (16 gives a 1.9M-parameter network that trains on a
CPU), and ``batch_norm=True`` (not in the paper; the common modern variant) puts a
BatchNorm after every 3x3 convolution, which then has no bias, and makes training from
scratch on natural images (CamVid) far less sensitive to the learning rate. Initialization as the paper: N(0, 2 / N) with N the incoming connections of a
unit (9 C_in for a 3x3 convolution, C_in for the 2x2 stride-2 up-convolution, whose
every output pixel is reached by one tap of each input channel), biases 0.
"""
import math

from ... import nn
from ...ops import cat
from ...ops import pad as pad_op
from ..registry import register_model

DEPTH = 4  # poolings; the paper's network has four levels above the bottleneck


class DoubleConv(nn.Sequential):
    """conv 3x3 -> ReLU -> conv 3x3 -> ReLU (padding 0 as the paper, or 1); with
    ``batch_norm`` each convolution (then without bias) is followed by a BatchNorm."""

    def __init__(self, in_channels, out_channels, padding, batch_norm=False):
        layers = []
        for c_in in (in_channels, out_channels):
            layers.append(nn.Conv2d(c_in, out_channels, 3, padding=padding, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU())
        super().__init__(*layers)


def _center_crop(x, height, width):
    top = (x.shape[2] - height) // 2
    left = (x.shape[3] - width) // 2
    return x[:, :, top:top + height, left:left + width]


class UNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=2, base_channels=64, padding=False,
                 dropout=0.5, batch_norm=False):
        super().__init__()
        if not isinstance(base_channels, int) or base_channels < 1:
            raise ValueError(f"base_channels: expected a positive int, got {base_channels!r}")
        self.padding = bool(padding)
        self.margin = 0 if self.padding else 92  # input pixels lost on each side
        widths = [base_channels * 2**level for level in range(DEPTH + 1)]
        conv_padding = 1 if self.padding else 0
        self.encoders = nn.ModuleList(
            DoubleConv(c_in, c_out, conv_padding, batch_norm)
            for c_in, c_out in zip([in_channels] + widths[:DEPTH - 1], widths[:DEPTH])
        )
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(dropout)
        self.bottleneck = DoubleConv(widths[DEPTH - 1], widths[DEPTH], conv_padding, batch_norm)
        # up-convolution and decoder of level l (0 = the top) take 2^(l+1) C channels
        self.upconvs = nn.ModuleList(
            nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2)
            for level in range(DEPTH)
        )
        self.decoders = nn.ModuleList(
            DoubleConv(2 * widths[level], widths[level], conv_padding, batch_norm)
            for level in range(DEPTH)
        )
        self.classifier = nn.Conv2d(widths[0], num_classes, 1)
        self.reset_parameters()

    def reset_parameters(self):
        """N(0, 2 / incoming connections) weights, zero biases (see the docstring)."""
        for module in self.modules():
            if isinstance(module, nn.ConvTranspose2d):
                incoming = module.in_channels  # one tap per input channel (stride = kernel)
            elif isinstance(module, nn.Conv2d):
                incoming = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            else:
                continue
            nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / incoming))
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def _check_poolable(self, x, level):
        if not self.padding and (x.shape[2] % 2 or x.shape[3] % 2):
            raise ValueError(
                f"input: the unpadded U-Net needs sizes of 16k + 12 pixels (188, ..., 556, "
                f"572, 588, ...) so that every 2x2 max pooling sees an even size; level "
                f"{level + 1} has {x.shape[2]}x{x.shape[3]}. Pass padding=True for any size."
            )

    def forward(self, x):
        skips = []
        for level, encoder in enumerate(self.encoders):
            x = encoder(x)
            if level == DEPTH - 1:
                x = self.dropout(x)
            skips.append(x)
            self._check_poolable(x, level)
            x = self.pool(x)
        x = self.dropout(self.bottleneck(x))
        for level in reversed(range(DEPTH)):
            x = self.upconvs[level](x)
            skip = skips[level]
            if self.padding:
                # an odd size was floored by the pooling: pad the up-convolution's output
                x = pad_op(x, (0, skip.shape[3] - x.shape[3], 0, skip.shape[2] - x.shape[2]))
            else:
                skip = _center_crop(skip, x.shape[2], x.shape[3])  # copy and crop
            x = self.decoders[level](cat([skip, x], dim=1))
        return self.classifier(x)


class OverlapTile(nn.Module):
    """The unpadded U-Net on a whole image of any size (at least 2 pixels): the image is
    mirrored outward by the network's margin (92 pixels: the paper's "missing context is
    extrapolated by mirroring the input image") and by up to 15 more pixels at the
    bottom and right to reach a valid size (16k + 12), the network runs on it as one
    tile, and the output is cropped to the image. The paper tiles large images; one
    tile is the same computation when it fits in memory."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, x):
        H, W = x.shape[2:]
        margin = self.unet.margin
        extra_h = (12 - (H + 2 * margin)) % 16
        extra_w = (12 - (W + 2 * margin)) % 16
        x = _mirror(x, (margin, margin + extra_w, margin, margin + extra_h))
        return self.unet(x)[:, :, :H, :W]


def _mirror(x, widths):
    """x padded by (left, right, top, bottom) mirrored pixels; a reflection can add at
    most size - 1 pixels, so wide margins on small images take several rounds (the
    mirror image mirrored again)."""
    left, right, top, bottom = widths
    while left or right or top or bottom:
        H, W = x.shape[2:]
        step = (min(left, W - 1), min(right, W - 1), min(top, H - 1), min(bottom, H - 1))
        x = pad_op(x, step, mode="reflect")
        left, right, top, bottom = (a - b for a, b in zip((left, right, top, bottom), step))
    return x


@register_model
def unet(in_channels=1, num_classes=2, base_channels=64, padding=False, dropout=0.5,
         batch_norm=False):
    """The U-Net of the paper (unpadded: 572 -> 388); see the module docstring."""
    return UNet(in_channels, num_classes, base_channels, padding, dropout, batch_norm)
