"""``unfold`` and ``fold``: the convolution kernels' im2col and col2im, as PyTorch
exposes them (``F.unfold``, ``F.fold``, ``nn.Unfold``, ``nn.Fold``).

Notation as in kernels/reference/conv.py: x (N, C, H, W), kernel KH KW, stride SH SW,
padding PH PW, dilation DH DW, L = OH * OW sliding positions.

    unfold(x)[n, (c, kh, kw), (oh, ow)] = x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW]
                                          (0 in the padding): (N, C*KH*KW, L)
    fold(col)[n, c, h, w] = sum of col[n, (c, kh, kw), (oh, ow)] over the positions
                            that unfold copied from pixel (h, w): (N, C, H, W)

The kernels' columns are laid out (C, KH, KW, N, OH, OW) (the batch next to the
positions, for one big GEMM); PyTorch's are (N, C*KH*KW, L), so each op moves the
batch axis to the front or back around the kernel call. fold is the adjoint of unfold,
so each one's backward is the other.
"""
from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array, namespace


class Unfold(Function):
    @staticmethod
    def forward(ctx, x, geometry):
        ctx.shape, ctx.geometry = x.shape, geometry
        return _unfold(x, geometry)

    @staticmethod
    def backward(ctx, grad):
        N, C, H, W = ctx.shape
        return _fold(grad, C, H, W, ctx.geometry), None


class Fold(Function):
    @staticmethod
    def forward(ctx, col, C, H, W, geometry):
        ctx.geometry = geometry
        return _fold(col, C, H, W, geometry)

    @staticmethod
    def backward(ctx, grad):
        return _unfold(grad, ctx.geometry), None, None, None, None


def _unfold(x, geometry):
    """x (N, C, H, W) -> (N, C*KH*KW, OH*OW) through im2col."""
    conv = backend.CONV.on(device_of_array(x))
    N, C = x.shape[:2]
    col = conv.im2col(x, *geometry)  # (C, KH, KW, N, OH, OW)
    KH, KW, OH, OW = col.shape[1], col.shape[2], col.shape[4], col.shape[5]
    rows = col.reshape(C * KH * KW, N, OH * OW).transpose(1, 0, 2)
    return namespace(x).ascontiguousarray(rows)


def _fold(col, C, H, W, geometry):
    """(N, C*KH*KW, L) -> x (N, C, H, W) through col2im (sums overlapping copies)."""
    conv = backend.CONV.on(device_of_array(col))
    KH, KW, SH, SW, PH, PW, DH, DW = geometry
    N = col.shape[0]
    OH, OW = output_positions(H, W, geometry)
    columns = col.reshape(N, C, KH, KW, OH, OW).transpose(1, 2, 3, 0, 4, 5)
    return conv.col2im(namespace(col).ascontiguousarray(columns), N, C, H, W, *geometry)


def output_positions(H, W, geometry):
    """(OH, OW): the sliding positions along each axis."""
    KH, KW, SH, SW, PH, PW, DH, DW = geometry
    return (
        (H + 2 * PH - DH * (KH - 1) - 1) // SH + 1,
        (W + 2 * PW - DW * (KW - 1) - 1) // SW + 1,
    )


def _geometry(name, kernel_size, dilation, padding, stride):
    KH, KW = checks.pair(name, "kernel_size", kernel_size, minimum=1)
    DH, DW = checks.pair(name, "dilation", dilation, minimum=1)
    PH, PW = checks.pair(name, "padding", padding, minimum=0)
    SH, SW = checks.pair(name, "stride", stride, minimum=1)
    return (KH, KW, SH, SW, PH, PW, DH, DW)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Sliding KH x KW blocks of an (N, C, H, W) or (C, H, W) input as columns:
    (N, C*KH*KW, L) (see the module docstring)."""
    checks.float_tensor("unfold", "input", input)
    if input.ndim not in (3, 4):
        raise ValueError(
            f"unfold: Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)"
        )
    geometry = _geometry("unfold", kernel_size, dilation, padding, stride)
    OH, OW = output_positions(input.shape[-2], input.shape[-1], geometry)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"unfold: the kernel {geometry[:2]} with dilation {geometry[6:]} and padding "
            f"{geometry[4:6]} does not fit the input of spatial size {input.shape[-2:]} "
            f"(calculated output positions: ({OH}, {OW}))"
        )
    x = input.unsqueeze(0) if input.ndim == 3 else input
    out = Unfold.apply(x, geometry)
    return out.squeeze(0) if input.ndim == 3 else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Columns (N, C*KH*KW, L) or (C*KH*KW, L) summed back into an (N, C, H, W) image
    of ``output_size`` (H, W); the adjoint of unfold."""
    checks.float_tensor("fold", "input", input)
    if input.ndim not in (2, 3):
        raise ValueError(
            f"fold: Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
            f"supported (got {input.ndim}D)"
        )
    H, W = checks.pair("fold", "output_size", output_size, minimum=1)
    geometry = _geometry("fold", kernel_size, dilation, padding, stride)
    KH, KW = geometry[:2]
    col = input.unsqueeze(0) if input.ndim == 2 else input
    if col.shape[1] % (KH * KW):
        raise ValueError(
            f"fold: Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={col.shape[1]} and kernel_size={(KH, KW)}"
        )
    OH, OW = output_positions(H, W, geometry)
    if OH < 1 or OW < 1 or col.shape[2] != OH * OW:
        raise ValueError(
            f"fold: Given output_size={(H, W)}, kernel_size={(KH, KW)}, "
            f"dilation={geometry[6:]}, padding={geometry[4:6]}, stride={geometry[2:4]}, "
            f"expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {OH} * {OW} = {OH * OW}, but got input.size(2)={col.shape[2]}."
        )
    out = Fold.apply(col, col.shape[1] // (KH * KW), H, W, geometry)
    return out.squeeze(0) if input.ndim == 2 else out
