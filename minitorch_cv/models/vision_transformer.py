"""Vision Transformer (Dosovitskiy et al. 2021, "An image is worth 16x16 words:
Transformers for image recognition at scale"): vit_b_16, vit_b_32, vit_l_16
(torchvision's) and vit_s_16, vit_ti_16 (the smaller widths of Touvron et al. 2021,
"Training data-efficient image transformers", DeiT), with torchvision's module tree.

Idea: no convolutions beyond the first. The image is cut into P x P patches, each
patch is flattened and linearly projected to a D-dimensional token (one strided
convolution does both), a learned class token is put in front, a learned position
embedding is added, and a stack of standard pre-norm Transformer encoder blocks mixes
the tokens with multi-head self-attention. The class token's final state, layer-normed,
is the image's representation; one Linear maps it to the classes.

    x (N, 3, H, W)
    conv_proj       conv P x P, stride P, D channels     (N, D, H/P, W/P)
    flatten         tokens                               (N, (H/P)(W/P), D)
    class_token     prepended                            (N, T, D), T = (H/P)(W/P) + 1
    encoder         + pos_embedding (1, T, D), dropout, then L blocks of
                      x = x + dropout(MultiheadAttention(ln_1(x)))   (NH heads, fused SDPA)
                      x = x + mlp(ln_2(x))   (Linear D->M, GELU, dropout, Linear M->D, dropout)
                    and a final LayerNorm ``ln`` (every LayerNorm with eps = 1e-6)
    heads.head      Linear on the class token x[:, 0]    (N, num_classes)

    name        P    L   D     NH   M      params (224x224, 1000 classes)
    vit_ti_16   16   12   192   3    768     5,717,416
    vit_s_16    16   12   384   6   1536    22,050,664
    vit_b_16    16   12   768  12   3072    86,567,656
    vit_b_32    32   12   768  12   3072    88,224,232
    vit_l_16    16   24  1024  16   4096   304,326,632

Every constructor takes ``image_size`` (default 224) and ``patch_size`` (default from
the name): ``vit_s_16(image_size=32, patch_size=4, num_classes=10)`` is a CIFAR ViT with
an 8x8 grid of tokens. The position embedding has T entries, so its size follows.

Attention runs through ``nn.MultiheadAttention(need_weights=False)``, which calls
``scaled_dot_product_attention``: the fused kernels, which never store the (T x T)
attention matrix (see kernels/reference/attention.py).

Module and state_dict names are torchvision's ("class_token", "conv_proj.weight",
"encoder.pos_embedding", "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
"encoder.layers.encoder_layer_0.mlp.3.bias", "encoder.ln.weight", "heads.head.weight"),
and so is the initialization: conv_proj truncated normal with std sqrt(1 / fan_in),
class token 0, position embedding N(0, 0.02^2), MLP weights xavier_uniform_ and biases
N(0, 1e-12), attention as nn.MultiheadAttention, the head at 0.
"""
import math
from collections import OrderedDict, namedtuple
from functools import partial

from .. import cat, checks, empty, nn
from ..nn import init
from .blocks import MLP, Conv2dNormActivation
from .registry import check_no_weights, register_model

# One layer of an optional convolutional stem (Xiao et al. 2021) in place of the patch
# projection, as torchvision's ConvStemConfig.
ConvStemConfig = namedtuple(
    "ConvStemConfig", ["out_channels", "kernel_size", "stride", "norm_layer", "activation_layer"],
    defaults=[nn.BatchNorm2d, nn.ReLU],
)


class MLPBlock(MLP):
    """The Transformer's feed-forward block: Linear D->M, GELU, dropout, Linear M->D,
    dropout; weights xavier_uniform_, biases N(0, 1e-6^2)."""

    def __init__(self, in_dim, mlp_dim, dropout):
        super().__init__(in_dim, [mlp_dim, in_dim], activation_layer=nn.GELU, inplace=None, dropout=dropout)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    init.normal_(module.bias, std=1e-6)


class EncoderBlock(nn.Module):
    """Pre-norm Transformer block: x + dropout(attention(ln_1(x))), then + mlp(ln_2(.))."""

    def __init__(self, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=attention_dropout,
                                                    batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input):  # noqa: A002 - torchvision's argument name
        _check_tokens(input)
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        y = self.mlp(self.ln_2(x))
        return x + y


class Encoder(nn.Module):
    """pos_embedding added, dropout, the encoder blocks, a final LayerNorm."""

    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                 attention_dropout, norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.pos_embedding = nn.Parameter(init.normal_(empty(1, seq_length, hidden_dim), std=0.02))
        self.dropout = nn.Dropout(dropout)
        layers = OrderedDict()
        for i in range(num_layers):
            layers[f"encoder_layer_{i}"] = EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                        attention_dropout, norm_layer)
        self.layers = nn.Sequential(layers)
        self.ln = norm_layer(hidden_dim)

    def forward(self, input):  # noqa: A002
        _check_tokens(input)
        if input.shape[1:] != self.pos_embedding.shape[1:]:
            raise ValueError(
                f"Encoder: expected tokens of shape (N, {self.pos_embedding.shape[1]}, "
                f"{self.pos_embedding.shape[2]}), got {input.shape}"
            )
        input = input + self.pos_embedding
        return self.ln(self.layers(self.dropout(input)))


class VisionTransformer(nn.Module):
    """torchvision's VisionTransformer (see the module docstring for the table)."""

    def __init__(
        self,
        image_size,
        patch_size,
        num_layers,
        num_heads,
        hidden_dim,
        mlp_dim,
        dropout=0.0,
        attention_dropout=0.0,
        num_classes=1000,
        representation_size=None,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
        conv_stem_configs=None,
    ):
        super().__init__()
        image_size = checks.integer("VisionTransformer", "image_size", image_size, minimum=1)
        patch_size = checks.integer("VisionTransformer", "patch_size", patch_size, minimum=1)
        if image_size % patch_size != 0:
            raise ValueError(
                f"VisionTransformer: image_size ({image_size}) must be divisible by "
                f"patch_size ({patch_size})"
            )
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.num_classes = num_classes
        self.representation_size = representation_size
        self.norm_layer = norm_layer

        if conv_stem_configs is not None:
            self.conv_proj = _conv_stem(conv_stem_configs, hidden_dim)
        else:
            self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)

        seq_length = (image_size // patch_size) ** 2
        self.class_token = nn.Parameter(init.zeros_(empty(1, 1, hidden_dim)))
        seq_length += 1
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                               attention_dropout, norm_layer)
        self.seq_length = seq_length

        heads = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads)
        self._init_weights()

    def _init_weights(self):
        if isinstance(self.conv_proj, nn.Conv2d):
            fan_in = self.conv_proj.in_channels * self.conv_proj.kernel_size[0] * self.conv_proj.kernel_size[1]
            init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
            if self.conv_proj.bias is not None:
                init.zeros_(self.conv_proj.bias)
        else:
            last = self.conv_proj.conv_last
            init.normal_(last.weight, mean=0.0, std=math.sqrt(2.0 / last.out_channels))
            if last.bias is not None:
                init.zeros_(last.bias)
        if "pre_logits" in self.heads._modules:
            pre_logits = self.heads.pre_logits
            init.trunc_normal_(pre_logits.weight, std=math.sqrt(1 / pre_logits.in_features))
            init.zeros_(pre_logits.bias)
        init.zeros_(self.heads.head.weight)
        init.zeros_(self.heads.head.bias)

    def _process_input(self, x):
        """(N, 3, H, W) -> patch tokens (N, (H/P)(W/P), D)."""
        if x.ndim != 4 or x.shape[2] != self.image_size or x.shape[3] != self.image_size:
            raise ValueError(
                f"VisionTransformer: expected input of shape (N, 3, {self.image_size}, "
                f"{self.image_size}), got {x.shape}"
            )
        n = x.shape[0]
        grid = self.image_size // self.patch_size
        x = self.conv_proj(x)  # (N, D, H/P, W/P)
        return x.reshape(n, self.hidden_dim, grid * grid).permute(0, 2, 1)

    def forward(self, x):
        x = self._process_input(x)
        n = x.shape[0]
        batch_class_token = self.class_token.expand(n, -1, -1)
        x = cat([batch_class_token, x], dim=1)
        x = self.encoder(x)
        return self.heads(x[:, 0])


def _conv_stem(configs, hidden_dim):
    stem = nn.Sequential()
    previous = 3
    for i, config in enumerate(configs):
        stem.add_module(
            f"conv_bn_relu_{i}",
            Conv2dNormActivation(previous, config.out_channels, kernel_size=config.kernel_size,
                                 stride=config.stride, norm_layer=config.norm_layer,
                                 activation_layer=config.activation_layer),
        )
        previous = config.out_channels
    stem.add_module("conv_last", nn.Conv2d(previous, hidden_dim, kernel_size=1))
    return stem


def _check_tokens(x):
    if x.ndim != 3:
        raise ValueError(f"expected tokens of shape (batch_size, seq_length, hidden_dim), got {x.shape}")


def _vision_transformer(patch_size, num_layers, num_heads, hidden_dim, mlp_dim, weights, kwargs):
    check_no_weights(weights)
    image_size = kwargs.pop("image_size", 224)
    patch_size = kwargs.pop("patch_size", patch_size)
    return VisionTransformer(image_size=image_size, patch_size=patch_size, num_layers=num_layers,
                             num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim, **kwargs)


@register_model
def vit_b_16(*, weights=None, progress=True, **kwargs):
    """ViT-B/16: 12 layers, D 768, 12 heads, MLP 3072; 86,567,656 parameters."""
    return _vision_transformer(16, 12, 12, 768, 3072, weights, kwargs)


@register_model
def vit_b_32(*, weights=None, progress=True, **kwargs):
    """ViT-B/32: as ViT-B/16 with 32x32 patches; 88,224,232 parameters."""
    return _vision_transformer(32, 12, 12, 768, 3072, weights, kwargs)


@register_model
def vit_l_16(*, weights=None, progress=True, **kwargs):
    """ViT-L/16: 24 layers, D 1024, 16 heads, MLP 4096; 304,326,632 parameters."""
    return _vision_transformer(16, 24, 16, 1024, 4096, weights, kwargs)


@register_model
def vit_s_16(*, weights=None, progress=True, **kwargs):
    """ViT-S/16 (DeiT-S): 12 layers, D 384, 6 heads, MLP 1536; 22,050,664 parameters."""
    return _vision_transformer(16, 12, 6, 384, 1536, weights, kwargs)


@register_model
def vit_ti_16(*, weights=None, progress=True, **kwargs):
    """ViT-Ti/16 (DeiT-Ti): 12 layers, D 192, 3 heads, MLP 768; 5,717,416 parameters."""
    return _vision_transformer(16, 12, 3, 192, 768, weights, kwargs)
