"""``conv_transpose2d``: the transposed convolution, the adjoint of ``conv2d``.

With weight w of shape (C_in, C_out/G, KH, KW), conv_transpose2d(., w) is the transpose
of the linear map x -> conv2d(x, w) from (N, C_out, OH, OW) to (N, C_in, H, W) images:

    <conv2d(z, w), x> == <z, conv_transpose2d(x, w)>   for all z and x.

So it is built from the same three pieces as conv2d (ops/conv.py), with forward and
input gradient exchanged:

    forward          y      = conv_input_grad(x, w)   = col2im(w^T @ x)
    input gradient   grad_x = conv_forward(grad_y, w) = w @ im2col(grad_y)
    weight gradient  grad_w = conv_weight_grad(grad_y, x)
    bias gradient    grad_b = grad_y summed over (N, OH, OW)

Output size (PyTorch's formula), per axis:

    OH = (H - 1)*SH - 2*PH + DH*(KH - 1) + output_padding_h + 1

output_padding only adds rows/columns at the bottom/right that no input pixel reaches
(they receive the bias only); it must be smaller than the stride or the dilation.
"""
from .. import checks
from ..autograd import Function
from ..devices import namespace
from .conv import Geometry, check_bias, check_operands, conv_forward, conv_input_grad, conv_weight_grad
from .shape import squeeze, unsqueeze


class ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, geometry, output_size):
        # The convolution that this is the transpose of maps the (OH, OW) output back to
        # (H', W') >= (H, W): H' exceeds H only when output_padding >= stride (allowed
        # when the dilation is larger). Its extra rows read nothing, so x is extended
        # with zeros and the input gradient is cropped back.
        OH, OW = output_size
        x_full = _extend(x, geometry.output_size(OH, OW))
        ctx.save_for_backward(x_full, weight)
        ctx.geometry, ctx.input_size = geometry, x.shape[2:]
        y = conv_input_grad(x_full, weight, geometry, OH, OW)
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x_full, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        _, _, KH, KW = weight.shape
        H, W = ctx.input_size
        grad_x = grad_weight = grad_bias = None
        if needs_x:
            grad_x = conv_forward(grad_y, weight, ctx.geometry)
            if grad_x.shape[2:] != (H, W):
                grad_x = namespace(grad_x).ascontiguousarray(grad_x[:, :, :H, :W])
        if needs_weight:
            grad_weight = conv_weight_grad(grad_y, x_full, ctx.geometry, KH, KW)
        if needs_bias:
            grad_bias = grad_y.sum(axis=(0, 2, 3))
        return grad_x, grad_weight, grad_bias, None, None


def _extend(x, size):
    """x padded with zeros at the bottom/right to spatial ``size`` (x itself if equal)."""
    N, C, H, W = x.shape
    if (H, W) == tuple(size):
        return x
    full = namespace(x).zeros((N, C) + tuple(size), dtype=x.dtype)
    full[:, :, :H, :W] = x
    return full


def conv_transpose2d(  # noqa: A002 - PyTorch's argument names
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """2-D transposed convolution with PyTorch's signature and semantics.

    input (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_in, C_out/groups, KH, KW);
    bias (C_out,). stride, dilation: int or pair, at least 1; padding: int or pair, at
    least 0 (it is the padding of the convolution this transposes, so it crops the
    output); output_padding: int or pair, at least 0 and smaller than the stride or the
    dilation along each axis.
    """
    name = "conv_transpose2d"
    check_operands(name, input, weight, bias)
    SH, SW = checks.pair(name, "stride", stride, minimum=1)
    PH, PW = checks.pair(name, "padding", padding, minimum=0)
    OPH, OPW = checks.pair(name, "output_padding", output_padding, minimum=0)
    DH, DW = checks.pair(name, "dilation", dilation, minimum=1)
    G = checks.integer(name, "groups", groups, minimum=1)
    for axis, op, s, d in (("height", OPH, SH, DH), ("width", OPW, SW, DW)):
        if op >= s and op >= d:
            raise ValueError(
                f"{name}: output_padding must be smaller than either stride or dilation, "
                f"got output_padding {op} with stride {s} and dilation {d} along the {axis}"
            )
    C_in, H, W = input.shape[-3:]
    weight_in, C_out_g, KH, KW = weight.shape
    if weight_in != C_in:
        raise ValueError(
            f"{name}: weight {tuple(weight.shape)} expects input with weight.shape[0] = "
            f"{weight_in} channels, got input {tuple(input.shape)} with {C_in} channels"
        )
    if C_in % G:
        raise ValueError(
            f"{name}: in_channels (input channels C = {C_in}) must be divisible by groups = {G}"
        )
    check_bias(name, bias, C_out_g * G)

    OH = (H - 1) * SH - 2 * PH + DH * (KH - 1) + OPH + 1
    OW = (W - 1) * SW - 2 * PW + DW * (KW - 1) + OPW + 1
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{name}: the output would be empty: (OH, OW) = ({OH}, {OW}) for input "
            f"{tuple(input.shape)}, kernel ({KH}, {KW}), stride ({SH}, {SW}), padding "
            f"({PH}, {PW}), output_padding ({OPH}, {OPW}), dilation ({DH}, {DW}); expected "
            "OH = (H-1)*SH - 2*PH + DH*(KH-1) + output_padding + 1 >= 1, likewise OW >= 1"
        )

    geometry = Geometry(KH, KW, SH, SW, PH, PW, DH, DW, G)
    x = unsqueeze(input, 0) if input.ndim == 3 else input
    y = ConvTranspose2d.apply(x, weight, bias, geometry, (OH, OW))
    return squeeze(y, 0) if input.ndim == 3 else y
