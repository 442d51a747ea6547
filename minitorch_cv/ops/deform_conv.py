"""``deform_conv2d``: deformable convolution, v1 (Dai et al. 2017) and v2 with a modulation
mask (Zhu et al. 2019), with torchvision.ops.deform_conv2d's signature and semantics.

Notation (kernels/reference/deform_conv.py has the sampling formulas): x (N, C, H, W)
input, offset (N, 2*OG*KH*KW, OH, OW) holding (dh, dw) per tap (kh, kw) per offset group,
mask (N, OG*KH*KW, OH, OW) or None, w (K, C/G, KH, KW) weight in G groups as conv2d's,
b (K,) bias, y (N, K, OH, OW). Every tap of every output position reads the input at its
regular grid point moved by its offset, interpolated bilinearly and multiplied by its
mask: those samples fill the columns col = deform_im2col(x, offset, mask), laid out as
im2col's, and the rest is conv2d's algebra (minitorch_cv/ops/conv.py), per group:

    forward           y           = w @ col (+ b)
    column gradient   gcol        = w^T @ grad_y
    input gradient    grad_x      = deform_col2im(gcol, offset, mask)       (a scatter)
    offset and mask   grad_offset, grad_mask = deform_col2offset(gcol, x, offset, mask)
    weight gradient   grad_w      = sum over the batch of grad_y @ col^T
    bias gradient     grad_b      = grad_y summed over (N, OH, OW)

With zero offsets and no mask (or a mask of ones) the columns are im2col's bit for bit and
y is conv2d's, bit for bit too wherever conv2d multiplies columns (all but a 1x1 kernel with
stride 1 and no padding, which conv2d computes without them).

The backward computes only the gradients asked for: gcol only for the input, offset or
mask, col (computed again, as conv2d does) only for the weight. The batch is processed in
chunks under conv2d's workspace limit (``conv.get_workspace_limit()``), so memory stays
bounded as the batch grows.
"""
from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array, namespace
from .chunk_pool import for_each_chunk, sum_over_chunks
from .conv import Geometry, _pool_chunks, _rows, check_bias, check_output_size


def deform_conv_forward(x, offset, mask, w, geometry):
    """y (N, K, OH, OW) without bias: per chunk, deform_im2col then one GEMM per group."""
    xp, device = namespace(x), device_of_array(x)
    kernels = backend.DEFORM_CONV.on(device)
    N, C, H, W = x.shape
    K, Cg, KH, KW = w.shape
    G = geometry.G
    OH, OW = geometry.output_size(H, W)
    w_rows = w.reshape(G, K // G, Cg * KH * KW)
    y = xp.empty((N, K, OH, OW), dtype=x.dtype)

    def forward_chunk(batch):
        B = batch.stop - batch.start
        col = kernels.deform_im2col(x[batch], offset[batch], _chunk(mask, batch), *geometry.kernel_args())
        y_rows = w_rows @ col.reshape(G, Cg * KH * KW, B * OH * OW)
        y[batch] = y_rows.reshape(K, B, OH, OW).transpose(1, 0, 2, 3)

    per_sample = x.itemsize * (C * KH * KW + K) * OH * OW
    for_each_chunk(forward_chunk, _pool_chunks(N, per_sample, device), device)
    return y


def deform_conv_backward(grad_y, x, offset, mask, w, geometry, needs):
    """(grad_x, grad_offset, grad_w, grad_mask), each None unless ``needs`` (a tuple of
    four booleans in that order) asks for it; one pass over the batch chunks."""
    xp, device = namespace(x), device_of_array(x)
    kernels = backend.DEFORM_CONV.on(device)
    needs_x, needs_offset, needs_w, needs_mask = needs
    N, C, H, W = x.shape
    K, Cg, KH, KW = w.shape
    G = geometry.G
    _, _, OH, OW = grad_y.shape
    args = geometry.kernel_args()
    grad_x = xp.empty(x.shape, dtype=x.dtype) if needs_x else None
    grad_offset = xp.empty(offset.shape, dtype=x.dtype) if needs_offset else None
    grad_mask = xp.empty(mask.shape, dtype=x.dtype) if needs_mask else None
    w_cols = w.reshape(G, K // G, Cg * KH * KW).transpose(0, 2, 1)  # (G, C/G*KH*KW, K/G)

    def backward_chunk(batch):
        """Writes the chunk's grad_x, grad_offset and grad_mask; returns its share of grad_w."""
        B = batch.stop - batch.start
        gy_rows = _rows(grad_y[batch], G)  # (G, K/G, B*OH*OW)
        x_b, offset_b, mask_b = x[batch], offset[batch], _chunk(mask, batch)
        if needs_x or needs_offset or needs_mask:
            gcol = (w_cols @ gy_rows).reshape(C, KH, KW, B, OH, OW)
            if needs_x:
                grad_x[batch] = kernels.deform_col2im(gcol, offset_b, mask_b, B, C, H, W, *args)
            if needs_offset or needs_mask:  # one pass gives both
                chunk_offset, chunk_mask = kernels.deform_col2offset(gcol, x_b, offset_b, mask_b, *args)
                if needs_offset:
                    grad_offset[batch] = chunk_offset
                if needs_mask:
                    grad_mask[batch] = chunk_mask
            del gcol
        if not needs_w:
            return None
        col = kernels.deform_im2col(x_b, offset_b, mask_b, *args)
        return gy_rows @ col.reshape(G, Cg * KH * KW, B * OH * OW).transpose(0, 2, 1)

    # gcol (freed before col is made) or col, the GEMM's other side, and col2im's result
    per_sample = x.itemsize * ((C * KH * KW + K) * OH * OW + C * H * W)
    chunks = _pool_chunks(N, per_sample, device)
    grad_w = None
    if needs_w:
        grad_w = sum_over_chunks(backward_chunk, chunks, device)
        if grad_w is None:  # an empty batch
            grad_w = xp.zeros((G, K // G, Cg * KH * KW), dtype=x.dtype)
        grad_w = grad_w.reshape(K, Cg, KH, KW)
    else:
        for_each_chunk(backward_chunk, chunks, device)
    return grad_x, grad_offset, grad_w, grad_mask


def _chunk(mask, batch):
    return None if mask is None else mask[batch]


class DeformConv2d(Function):
    @staticmethod
    def forward(ctx, x, offset, weight, bias, mask, geometry):
        ctx.save_for_backward(x, offset, weight, mask)
        ctx.geometry = geometry
        y = deform_conv_forward(x, offset, mask, weight, geometry)
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, offset, weight, mask = ctx.saved_tensors
        needs_x, needs_offset, needs_weight, needs_bias, needs_mask = ctx.needs_input_grad[:5]
        needs = (needs_x, needs_offset, needs_weight, needs_mask)
        grad_x = grad_offset = grad_weight = grad_mask = None
        if any(needs):
            grad_x, grad_offset, grad_weight, grad_mask = deform_conv_backward(
                grad_y, x, offset, mask, weight, ctx.geometry, needs
            )
        grad_bias = grad_y.sum(axis=(0, 2, 3)) if needs_bias else None
        return grad_x, grad_offset, grad_weight, grad_bias, grad_mask, None


def deform_conv2d(input, offset, weight, bias=None, stride=1, padding=0, dilation=1, mask=None):  # noqa: A002
    """Deformable convolution with torchvision.ops.deform_conv2d's signature and semantics.

    input (N, C, H, W); offset (N, 2*OG*KH*KW, OH, OW), (dh, dw) per tap (kh, kw) in
    row-major order per offset group (OG is offset.shape[1] // (2*KH*KW), and C must be
    divisible by it); weight (K, C/G, KH, KW) (the weight groups G are C // weight.shape[1]);
    bias (K,); mask (N, OG*KH*KW, OH, OW) or None (v1). stride, dilation: int or pair, at
    least 1; padding: int or pair, at least 0. (OH, OW) is conv2d's output size.
    """
    name = "deform_conv2d"
    _check_tensors(name, input, offset, weight, bias, mask)
    SH, SW = checks.pair(name, "stride", stride, minimum=1)
    PH, PW = checks.pair(name, "padding", padding, minimum=0)
    DH, DW = checks.pair(name, "dilation", dilation, minimum=1)
    N, C, H, W = input.shape
    K, Cg, KH, KW = weight.shape
    if Cg < 1 or C % Cg:
        raise ValueError(
            f"{name}: weight {tuple(weight.shape)} needs input channels C = {C} to be a multiple "
            f"of weight.shape[1] = {Cg} (the channels of one weight group)"
        )
    G = C // Cg
    if K % G:
        raise ValueError(
            f"{name}: out_channels (weight.shape[0] = {K}) must be divisible by the weight "
            f"groups G = C / weight.shape[1] = {G}"
        )
    check_bias(name, bias, K)
    geometry = Geometry(KH, KW, SH, SW, PH, PW, DH, DW, G)
    check_output_size(name, geometry, H, W, input.shape)
    _check_offset_and_mask(name, offset, mask, N, C, KH, KW, *geometry.output_size(H, W))
    return DeformConv2d.apply(input, offset, weight, bias, mask, geometry)


# ---------------------------------------------------------------- argument checks
def _check_tensors(name, input, offset, weight, bias, mask):  # noqa: A002
    """float32/float64 Tensors, 4-D (bias 1-D), all of input's dtype and device."""
    tensors = [("input", input), ("offset", offset), ("weight", weight)]
    tensors += [(arg, value) for arg, value in (("bias", bias), ("mask", mask)) if value is not None]
    for arg, value in tensors:
        checks.float_tensor(name, arg, value)
        if arg != "bias" and value.ndim != 4:
            raise ValueError(f"{name}: {arg} must be 4-D, got shape {tuple(value.shape)}")
    for arg, value in tensors[1:]:
        if value.dtype != input.dtype:
            raise TypeError(
                f"{name}: {arg} has dtype {value.dtype} but input has dtype {input.dtype}; "
                "expected the same dtype (convert one with .to())"
            )
        checks.same_device(name, arg, value, input)


def _check_offset_and_mask(name, offset, mask, N, C, KH, KW, OH, OW):
    """offset (N, 2*OG*KH*KW, OH, OW) with C divisible by OG; mask (N, OG*KH*KW, OH, OW)."""
    taps = KH * KW
    OG = offset.shape[1] // (2 * taps)
    if OG < 1 or offset.shape[1] != 2 * OG * taps:
        raise ValueError(
            f"{name}: offset.shape[1] must be a positive multiple of 2*KH*KW = {2 * taps} "
            f"((dh, dw) per tap per offset group), got offset {tuple(offset.shape)}"
        )
    if C % OG:
        raise ValueError(
            f"{name}: the input channels C = {C} must be divisible by the offset groups "
            f"OG = offset.shape[1] / (2*KH*KW) = {OG}"
        )
    expected = (N, 2 * OG * taps, OH, OW)
    if tuple(offset.shape) != expected:
        raise ValueError(
            f"{name}: offset must have shape (N, 2*OG*KH*KW, OH, OW) = {expected} (OH, OW: "
            f"the output size), got {tuple(offset.shape)}"
        )
    if mask is not None and tuple(mask.shape) != (N, OG * taps, OH, OW):
        raise ValueError(
            f"{name}: mask must have shape (N, OG*KH*KW, OH, OW) = {(N, OG * taps, OH, OW)} "
            f"(one value per offset pair), got {tuple(mask.shape)}"
        )
