"""Building blocks that torchvision keeps in ``torchvision.ops.misc`` and several model
families share: ``Conv2dNormActivation`` (MobileNetV2, EfficientNet) and ``MLP`` (the
Vision Transformer's feed-forward block).

Both are ``Sequential`` subclasses, as in torchvision, so their children are numbered
("features.0.0.weight" is the convolution of the first Conv2dNormActivation, "1.weight"
its BatchNorm; an MLP's linears are "0" and "3", with the activation and a dropout
between them) and a torchvision state_dict maps one to one.
"""
from .. import checks, nn


class Conv2dNormActivation(nn.Sequential):
    """conv -> norm -> activation, the convolution padded to keep the size at stride 1.

        padding = (kernel_size - 1) // 2 * dilation      (when not given)
        bias    = norm_layer is None                     (when not given: a norm's shift
                                                          makes a conv bias redundant)

    ``norm_layer`` and ``activation_layer`` are classes (or callables) called with the
    channel count and with ``inplace`` respectively; None leaves the layer out.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size=3,
        stride=1,
        padding=None,
        groups=1,
        norm_layer=nn.BatchNorm2d,
        activation_layer=nn.ReLU,
        dilation=1,
        inplace=True,
        bias=None,
    ):
        kernel_size = checks.integer("Conv2dNormActivation", "kernel_size", kernel_size, minimum=1)
        dilation = checks.integer("Conv2dNormActivation", "dilation", dilation, minimum=1)
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                      dilation=dilation, groups=groups, bias=bias)
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class MLP(nn.Sequential):
    """Linear -> activation -> dropout for each hidden size but the last, then
    Linear -> dropout: ``MLP(768, [3072, 768], activation_layer=nn.GELU)`` is the ViT
    feed-forward block (children 0 Linear, 1 GELU, 2 Dropout, 3 Linear, 4 Dropout)."""

    def __init__(
        self,
        in_channels,
        hidden_channels,
        norm_layer=None,
        activation_layer=nn.ReLU,
        inplace=None,
        bias=True,
        dropout=0.0,
    ):
        options = {} if inplace is None else {"inplace": inplace}
        layers = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers.append(activation_layer(**options))
            layers.append(nn.Dropout(dropout, **options))
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **options))
        super().__init__(*layers)
