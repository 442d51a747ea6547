"""CoAtNet (Dai, Liu, Le and Tan 2021, "CoAtNet: marrying convolution and attention for
all data sizes"): ``coatnet_0``.

Idea: convolution generalizes well from little data (its weights depend only on the
relative offset i - j, the translation equivariance), attention has more capacity (its
weights depend on the input). *Relative attention* joins the two: a learned,
input-independent bias w_{i-j}, indexed by the relative position of the two tokens, is
added to the attention logits before the softmax (the paper's pre-normalization
variant, eq. 3):

    y_i = sum_j softmax_j(x_i^T x_j / sqrt(E) + w_{i-j}) x_j

Stacking: convolutions (MBConv) in the early, high-resolution stages, where attention
would cost L^2 for many tokens, and relative-attention Transformer blocks in the late
stages: the C-C-T-T layout, the best of the paper's study (section 3.2).

CoAtNet-0 (Table 3 of the paper; input 224x224; L blocks, D channels per stage):

    stage  block                              L   D     resolution
    S0     conv 3x3 stride 2, conv 3x3        2   64    112x112
    S1     MBConv (expansion 4, SE 0.25)      2   96     56x56
    S2     MBConv (expansion 4, SE 0.25)      3   192    28x28
    S3     Transformer (relative attention)   5   384    14x14
    S4     Transformer (relative attention)   2   768     7x7
           global average pool, Linear D -> classes

Every block is pre-normalized (x + Module(Norm(x))): BatchNorm before an MBConv,
LayerNorm before attention and before the feed-forward network (Linear D -> 4D, GELU,
Linear 4D -> D). The first block of S1-S4 halves the resolution and changes the width
(appendix A.1 of the paper):

    x <- Proj(Pool(x)) + Conv1x1(DepthConv3x3(Conv1x1(Norm(x)), stride 2))   MBConv
    x <- Proj(Pool(x)) + Attention(Pool(Norm(x)))                            Transformer

with Pool a 3x3 max pool of stride 2 and Proj a 1x1 convolution. GELU is the activation
throughout; attention heads have 32 dims (12 heads in S3, 24 in S4).

Choices where the paper is silent (CoAtNet has no torchvision model to follow): the
stride of a downsampling MBConv is on its depthwise convolution (as MobileNetV2 and
EfficientNet), an MBConv expands to 4x its output width and squeezes to a quarter of
its input width, both stem convolutions have BN and GELU, and the initialization is
kaiming_normal_ (fan_out) for convolutions, truncated N(0, 0.02^2) for Linear weights
and the relative-position tables, zero biases, norms at weight 1 and bias 0. The result
has 24,401,780 parameters at 224x224 and 1000 classes (Table 3: "25M").

The relative-position bias: for a grid of H x W tokens, the offset between tokens
(h1, w1) and (h2, w2) is (h1 - h2, w1 - w2) in [-(H-1), H-1] x [-(W-1), W-1], so each
head has a table of (2H-1)(2W-1) learned scalars (``relative_position_bias_table``,
one column per head) and a fixed index buffer maps each pair of tokens to its entry.
The gathered (NH, L, L) bias is the additive ``attn_mask`` of
``scaled_dot_product_attention``, so it goes through the fused kernels, which also
return its gradient (dbias, kernels/reference/attention.py); the gather's backward then
sums it into the table. The grid follows the input: ``coatnet_0(image_size=32,
num_classes=10)`` is a CIFAR CoAtNet (S3 at 2x2, S4 at 1x1).
"""
import numpy as np

from .. import checks, empty, nn, tensor
from ..nn import functional as F
from ..nn import init
from .blocks import MLP, Conv2dNormActivation
from .registry import check_no_weights, register_model
from .weight_init import init_resnet_


def relative_position_index(H, W):
    """(H*W, H*W) int64: for tokens p = h1 * W + w1 and q = h2 * W + w2, the row of
    their offset (h1 - h2, w1 - w2) in a table of (2H-1)(2W-1) rows, i.e.
    (h1 - h2 + H - 1) * (2W - 1) + (w1 - w2 + W - 1)."""
    h, w = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    h, w = h.reshape(-1), w.reshape(-1)
    dh = h[:, None] - h[None, :] + H - 1  # in [0, 2H - 2]
    dw = w[:, None] - w[None, :] + W - 1  # in [0, 2W - 2]
    return (dh * (2 * W - 1) + dw).astype(np.int64)


class RelativeAttention(nn.Module):
    """Multi-head self-attention over an H x W grid of tokens with a learned
    relative-position bias on the logits (see the module docstring):

        q, k, v = split(qkv(x))                    (N, NH, L, E), E = out_dim / NH
        out     = proj(merge(softmax(q k^T / sqrt(E) + B) v))
        B[h, p, q] = relative_position_bias_table[index[p, q], h]
    """

    def __init__(self, in_dim, out_dim, grid_size, head_dim=32):
        super().__init__()
        if out_dim % head_dim != 0:
            raise ValueError(f"RelativeAttention: out_dim ({out_dim}) must be divisible by head_dim ({head_dim})")
        self.num_heads = out_dim // head_dim
        self.head_dim = head_dim
        self.grid_size = H, W = grid_size
        self.qkv = nn.Linear(in_dim, 3 * out_dim)
        self.proj = nn.Linear(out_dim, out_dim)
        self.relative_position_bias_table = nn.Parameter(
            init.trunc_normal_(empty((2 * H - 1) * (2 * W - 1), self.num_heads), std=0.02)
        )
        self.register_buffer("relative_position_index", tensor(relative_position_index(H, W)),
                             persistent=False)

    def relative_position_bias(self):
        """The (1, NH, L, L) additive bias, gathered from the table (differentiably)."""
        L = self.grid_size[0] * self.grid_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]  # (L*L, NH)
        return bias.reshape(L, L, self.num_heads).permute(2, 0, 1).unsqueeze(0)

    def forward(self, x):
        """x: (N, L, in_dim) tokens of the H x W grid, row by row -> (N, L, out_dim)."""
        N, L, _ = x.shape
        if L != self.grid_size[0] * self.grid_size[1]:
            raise ValueError(
                f"RelativeAttention: expected {self.grid_size[0]} x {self.grid_size[1]} = "
                f"{self.grid_size[0] * self.grid_size[1]} tokens, got {L}"
            )
        qkv = self.qkv(x).reshape(N, L, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (N, NH, L, E) each
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=self.relative_position_bias())
        return self.proj(out.transpose(1, 2).reshape(N, L, self.num_heads * self.head_dim))


class MBConvBlock(nn.Module):
    """Pre-norm MBConv: shortcut(x) + conv(norm(x)), conv = 1x1 expansion (BN, GELU) ->
    3x3 depthwise with the stride (BN, GELU) -> squeeze-and-excitation -> 1x1
    projection; the shortcut is Proj(Pool(x)) when the block downsamples."""

    def __init__(self, in_channels, out_channels, stride=1, expansion=4, se_ratio=0.25):
        super().__init__()
        hidden = out_channels * expansion
        self.norm = nn.BatchNorm2d(in_channels)
        self.conv = nn.Sequential(
            Conv2dNormActivation(in_channels, hidden, kernel_size=1, activation_layer=nn.GELU, inplace=None),
            Conv2dNormActivation(hidden, hidden, kernel_size=3, stride=stride, groups=hidden,
                                 activation_layer=nn.GELU, inplace=None),
            nn.SqueezeExcitation(hidden, max(1, int(in_channels * se_ratio)), activation=nn.GELU),
            nn.Conv2d(hidden, out_channels, kernel_size=1),
        )
        self.shortcut = _downsample_shortcut(in_channels, out_channels, stride)

    def forward(self, x):
        return self.shortcut(x) + self.conv(self.norm(x))


class TransformerBlock(nn.Module):
    """Pre-norm Transformer block on an (N, C, H, W) map:
        x <- shortcut(x) + attention(pool(ln_1(x)))      (pool and shortcut: when stride 2)
        x <- x + mlp(ln_2(x))
    ``grid_size`` is the (H, W) of the output, on which attention runs."""

    def __init__(self, in_channels, out_channels, grid_size, stride=1, head_dim=32, mlp_ratio=4):
        super().__init__()
        self.ln_1 = nn.LayerNorm(in_channels)
        self.pool = nn.MaxPool2d(3, 2, 1) if stride == 2 else nn.Identity()
        self.attention = RelativeAttention(in_channels, out_channels, grid_size, head_dim)
        self.shortcut = _downsample_shortcut(in_channels, out_channels, stride)
        self.ln_2 = nn.LayerNorm(out_channels)
        self.mlp = MLP(out_channels, [mlp_ratio * out_channels, out_channels], activation_layer=nn.GELU)

    def forward(self, x):
        N, C = x.shape[:2]
        normed = _from_tokens(self.ln_1(_to_tokens(x)), x.shape)
        pooled = self.pool(normed)
        H, W = pooled.shape[2:]
        attended = self.attention(_to_tokens(pooled))  # (N, H*W, out)
        x = _to_tokens(self.shortcut(x)) + attended
        x = x + self.mlp(self.ln_2(x))
        return _from_tokens(x, (N, x.shape[2], H, W))


def _to_tokens(x):
    """(N, C, H, W) -> (N, H*W, C), row by row."""
    return x.flatten(2).transpose(1, 2)


def _from_tokens(x, shape):
    """(N, H*W, C) -> (N, C, H, W)."""
    return x.transpose(1, 2).reshape(shape)


def _downsample_shortcut(in_channels, out_channels, stride):
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    pool = nn.MaxPool2d(3, 2, 1) if stride == 2 else nn.Identity()
    return nn.Sequential(pool, nn.Conv2d(in_channels, out_channels, kernel_size=1))


class CoAtNet(nn.Module):
    """Stem S0, then stages S1-S4 of MBConv ("C") or Transformer ("T") blocks; every
    stage halves the resolution in its first block (see the module docstring)."""

    def __init__(self, image_size=224, num_blocks=(2, 2, 3, 5, 2), channels=(64, 96, 192, 384, 768),
                 block_types=("C", "C", "T", "T"), num_classes=1000, head_dim=32):
        super().__init__()
        image_size = checks.integer("CoAtNet", "image_size", image_size, minimum=32)
        if image_size % 32 != 0:
            raise ValueError(f"CoAtNet: image_size must be a positive multiple of 32, got {image_size!r}")
        if len(num_blocks) != 5 or len(channels) != 5 or len(block_types) != 4:
            raise ValueError("CoAtNet: expected 5 block counts, 5 widths and 4 block types (S1-S4)")
        if any(kind not in ("C", "T") for kind in block_types):
            raise ValueError(f"CoAtNet: block_types must be 'C' or 'T', got {block_types!r}")
        self.image_size = image_size
        stem = [Conv2dNormActivation(3, channels[0], kernel_size=3, stride=2, activation_layer=nn.GELU, inplace=None)]
        for _ in range(num_blocks[0] - 1):
            stem.append(Conv2dNormActivation(channels[0], channels[0], kernel_size=3, activation_layer=nn.GELU,
                                             inplace=None))
        self.s0 = nn.Sequential(*stem)
        size = image_size // 2
        for stage, kind in enumerate(block_types, start=1):
            size //= 2
            blocks = []
            for i in range(num_blocks[stage]):
                in_channels = channels[stage - 1] if i == 0 else channels[stage]
                stride = 2 if i == 0 else 1
                if kind == "C":
                    blocks.append(MBConvBlock(in_channels, channels[stage], stride))
                else:
                    blocks.append(TransformerBlock(in_channels, channels[stage], (size, size), stride, head_dim))
            self.add_module(f"s{stage}", nn.Sequential(*blocks))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels[-1], num_classes)
        self._init_weights()

    def _init_weights(self):
        init_resnet_(self)  # He (fan_out) convolutions, zero conv biases, BatchNorms at 1 and 0
        for module in self.modules():
            if isinstance(module, nn.Linear):
                init.trunc_normal_(module.weight, std=0.02)
                init.zeros_(module.bias)

    def forward(self, x):
        if x.ndim != 4 or x.shape[2] != self.image_size or x.shape[3] != self.image_size:
            raise ValueError(
                f"CoAtNet: expected input of shape (N, 3, {self.image_size}, {self.image_size}) "
                f"(the relative-position tables are built for image_size), got {x.shape}"
            )
        for stage in (self.s0, self.s1, self.s2, self.s3, self.s4):
            x = stage(x)
        return self.fc(self.pool(x).flatten(1))


@register_model
def coatnet_0(*, weights=None, image_size=224, num_classes=1000):
    """CoAtNet-0: C-C-T-T, blocks (2, 2, 3, 5, 2), widths (64, 96, 192, 384, 768);
    24,401,780 parameters at 224x224 and 1000 classes (the paper: 25M)."""
    check_no_weights(weights)
    return CoAtNet(image_size=image_size, num_classes=num_classes)
