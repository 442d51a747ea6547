"""``conv2d``: 2-D convolution as im2col + one matrix product, and its three gradients.

Notation (see ``kernels/reference/conv.py`` for the kernels that unfold and fold):
x (N, C, H, W) input, w (K, C/G, KH, KW) weight, b (K,) bias, y (N, K, OH, OW) output,
G groups (group g maps input channels [g*C/G, (g+1)*C/G) to output channels
[g*K/G, (g+1)*K/G)), and per sample and group, with col = im2col(x) read as a matrix:

    forward          y      = w @ col                 (K/G, C/G*KH*KW) @ (C/G*KH*KW, OH*OW)
    input gradient   grad_x = col2im(w^T @ grad_y)    the transposed convolution of grad_y
    weight gradient  grad_w = sum over the batch of grad_y @ col^T
    bias gradient    grad_b = grad_y summed over (N, OH, OW)

The batch is folded into the columns (col is (C*KH*KW, N*OH*OW)), so each line above is
one GEMM per group for a whole chunk of the batch. The GEMM is ``xp.matmul`` (BLAS or
cuBLAS); im2col and col2im are our kernels, fetched with ``backend.CONV.on(device)``.

Bounded memory: the column matrix is C*KH*KW times larger than the input, so the batch
is processed in chunks. A chunk's workspace (the columns and the matrix on the other side
of the GEMM, (C*KH*KW + K)*OH*OW values per sample, plus col2im's C*H*W for the input
gradient) stays under ``get_workspace_limit()`` bytes (default 256 MiB; change it with
``set_workspace_limit(nbytes)``), and a chunk holds at least one sample. Memory then
grows with the batch only by the output itself.

On the CPU the chunks run side by side, one whole chunk per core (ops/chunk_pool.py
says why), so up to ``get_num_threads()`` workspaces exist at once; each
is also kept under ``CPU_CHUNK_BYTES`` (4 MiB: twice a core's 2 MiB L2 cache here; a
ResNet-20 step measured best at 4 MiB, against 2 and 8), and there are at least as many
chunks as threads when the batch allows.

A 1x1 convolution with stride 1 and no padding needs no columns at all: each sample's
input, read as a (C, H*W) matrix, already is its column matrix. A 3x3 convolution with
stride 1 (and enough channels and output pixels, ``_winograd_pays``) runs its forward by
Winograd's F(2x2, 3x3) instead of im2col: 16 GEMMs on transformed 4x4 tiles with 2.25
times fewer multiplications (``_forward_by_winograd``; kernels/reference/winograd.py).

``conv_forward``, ``conv_input_grad`` and ``conv_weight_grad`` are the three building
blocks on arrays; ``conv_transpose2d`` (ops/conv_transpose.py) is made of the same three
with the roles of forward and input gradient exchanged.
"""
import operator
from typing import NamedTuple

from .. import backend, checks
from ..autograd import Function
from ..devices import GPU, device_of_array, namespace
from ..threads import get_num_threads
from .chunk_pool import for_each_chunk, sum_over_chunks
from .pad import pad
from .shape import squeeze, unsqueeze

_workspace_limit = 256 * 2**20
CPU_CHUNK_BYTES = 4 * 2**20


def get_workspace_limit():
    """Bytes that the workspace of one batch chunk may take (default 256 MiB)."""
    return _workspace_limit


def set_workspace_limit(nbytes):
    """Set the workspace limit in bytes; returns the previous one. One sample is always
    processed at a time at least, whatever the limit."""
    global _workspace_limit
    nbytes = operator.index(nbytes)
    if nbytes < 1:
        raise ValueError(f"set_workspace_limit: expected a positive number of bytes, got {nbytes}")
    previous, _workspace_limit = _workspace_limit, nbytes
    return previous


class Geometry(NamedTuple):
    """Everything about a convolution except the arrays: kernel taps, stride, padding
    (both sides), dilation and groups."""

    KH: int
    KW: int
    SH: int
    SW: int
    PH: int
    PW: int
    DH: int
    DW: int
    G: int

    def output_size(self, H, W):
        """(OH, OW) for an (H, W) input; not positive when no kernel position fits."""
        OH = (H + 2 * self.PH - self.DH * (self.KH - 1) - 1) // self.SH + 1
        OW = (W + 2 * self.PW - self.DW * (self.KW - 1) - 1) // self.SW + 1
        return OH, OW

    def with_single_window_strides(self, H, W):
        """This geometry for an (H, W) input, with the stride of each axis that has a
        single output position (OH = 1) replaced by the smallest that keeps it single
        (the span H + 2*PH - DH*(KH-1), plus one). A stride never applies to a single
        window, so every result is the same, and the kernels' 32-bit ints then hold it
        whatever the user passed (stride=2**40 gives PyTorch's result)."""
        OH, OW = self.output_size(H, W)
        SH = min(self.SH, max(1, H + 2 * self.PH - self.DH * (self.KH - 1))) if OH == 1 else self.SH
        SW = min(self.SW, max(1, W + 2 * self.PW - self.DW * (self.KW - 1))) if OW == 1 else self.SW
        return self._replace(SH=SH, SW=SW)

    def is_pointwise(self):
        """1x1 taps, stride 1, no padding: im2col would only copy the input."""
        return (self.KH, self.KW, self.SH, self.SW, self.PH, self.PW) == (1, 1, 1, 1, 0, 0)

    def kernel_args(self):
        return (self.KH, self.KW, self.SH, self.SW, self.PH, self.PW, self.DH, self.DW)


def _batch_chunks(N, bytes_per_sample, device, threads=1):
    """Consecutive slices of the batch, each with a workspace under the limit (and on the
    CPU under CPU_CHUNK_BYTES, and at least ``threads`` of them when the batch allows),
    at least one sample each."""
    per_chunk = max(1, _workspace_limit // max(1, bytes_per_sample))
    if device != GPU:
        per_chunk = max(1, min(per_chunk, CPU_CHUNK_BYTES // max(1, bytes_per_sample), -(-N // threads)))
    for start in range(0, N, per_chunk):
        yield slice(start, min(start + per_chunk, N))


def _pool_chunks(N, bytes_per_sample, device):
    """_batch_chunks for the chunks that run side by side on the CPU, one per thread."""
    return _batch_chunks(N, bytes_per_sample, device, get_num_threads())


def _rows(a, G):
    """(B, K, OH, OW) -> (G, K/G, B*OH*OW): the matrix layout of im2col's columns (one
    copy, the only transpose on the way in or out of a GEMM)."""
    B, K, OH, OW = a.shape
    return a.transpose(1, 0, 2, 3).reshape(G, K // G, B * OH * OW)


def conv_forward(x, w, geometry):
    """y (N, K, OH, OW) = conv2d(x, w) without bias: per chunk, one GEMM per group."""
    xp, device = namespace(x), device_of_array(x)
    conv = backend.CONV.on(device)
    N, C, H, W = x.shape
    K, Cg, KH, KW = w.shape
    G = geometry.G
    OH, OW = geometry.output_size(H, W)
    w_rows = w.reshape(G, K // G, Cg * KH * KW)
    if geometry.is_pointwise():  # (G, K/G, C/G) @ (N, G, C/G, H*W), no columns
        return (w_rows @ x.reshape(N, G, Cg, H * W)).reshape(N, K, OH, OW)
    if _winograd_pays(geometry, N, C, OH, OW, device):
        return _forward_by_winograd(x, w, geometry)

    y = xp.empty((N, K, OH, OW), dtype=x.dtype)

    def forward_chunk(batch):
        B = batch.stop - batch.start
        col = conv.im2col(x[batch], *geometry.kernel_args())
        y_rows = w_rows @ col.reshape(G, Cg * KH * KW, B * OH * OW)
        y[batch] = y_rows.reshape(K, B, OH, OW).transpose(1, 0, 2, 3)

    per_sample = x.itemsize * (C * KH * KW + K) * OH * OW
    for_each_chunk(forward_chunk, _pool_chunks(N, per_sample, device), device)
    return y


def conv_input_grad(grad_y, w, geometry, H, W):
    """grad_x (N, C, H, W) = col2im(w^T @ grad_y), the transposed convolution of grad_y
    (N, K, OH, OW): every column entry goes back to the pixel it was copied from.

    ``_input_grad_by_col2im`` computes exactly that and is the specification; with
    stride 1 the same sums are computed by ``_input_grad_as_convolution`` (below), which
    needs no col2im and runs a better-shaped GEMM."""
    N, K, OH, OW = grad_y.shape
    _, Cg, KH, KW = w.shape
    G = geometry.G
    if geometry.is_pointwise():  # (G, C/G, K/G) @ (N, G, K/G, OH*OW)
        w_cols = w.reshape(G, K // G, Cg).transpose(0, 2, 1)
        return (w_cols @ grad_y.reshape(N, G, K // G, OH * OW)).reshape(N, G * Cg, H, W)
    if _flipped_geometry(geometry) is not None:
        return _input_grad_as_convolution(grad_y, w, geometry)
    return _input_grad_by_col2im(grad_y, w, geometry, H, W)


def _input_grad_by_col2im(grad_y, w, geometry, H, W):
    """conv_input_grad for every geometry: per chunk, col = w^T @ grad_y (one GEMM per
    group), then col2im folds the columns back onto the pixels."""
    xp, device = namespace(grad_y), device_of_array(grad_y)
    conv = backend.CONV.on(device)
    N, K, OH, OW = grad_y.shape
    _, Cg, KH, KW = w.shape
    G = geometry.G
    C = G * Cg
    w_cols = w.reshape(G, K // G, Cg * KH * KW).transpose(0, 2, 1)  # (G, C/G*KH*KW, K/G)
    grad_x = xp.empty((N, C, H, W), dtype=grad_y.dtype)

    def input_grad_chunk(batch):
        B = batch.stop - batch.start
        col = w_cols @ _rows(grad_y[batch], G)  # (G, C/G*KH*KW, B*OH*OW)
        col = col.reshape(C, KH, KW, B, OH, OW)
        grad_x[batch] = conv.col2im(col, B, C, H, W, *geometry.kernel_args())

    per_sample = grad_y.itemsize * ((C * KH * KW + K) * OH * OW + C * H * W)  # + col2im's result
    for_each_chunk(input_grad_chunk, _pool_chunks(N, per_sample, device), device)
    return grad_x


def conv_weight_grad(x, grad_y, geometry, KH, KW):
    """grad_w (K, C/G, KH, KW) = sum over the batch of grad_y @ col^T, one GEMM per group
    and chunk (BLAS sums over the chunk's N*OH*OW columns)."""
    xp, device = namespace(x), device_of_array(x)
    conv = backend.CONV.on(device)
    N, C, H, W = x.shape
    _, K, OH, OW = grad_y.shape
    G = geometry.G
    Cg = C // G
    if geometry.is_pointwise() and H * W < min(K // G, Cg):
        # Tiny images (a 1x1 feature map before a classifier): per-sample products
        # would be (K/G, C/G) outer products of H*W terms; one GEMM over the rows.
        def chunk_sum(batch):
            return _rows(grad_y[batch], G) @ _rows(x[batch], G).transpose(0, 2, 1)

        per_sample = x.itemsize * (K + C) * H * W
    elif geometry.is_pointwise():  # per sample (G, K/G, H*W) @ (G, H*W, C/G), summed per chunk
        def chunk_sum(batch):
            B = batch.stop - batch.start
            x_rows = x[batch].reshape(B, G, Cg, H * W).transpose(0, 1, 3, 2)
            return (grad_y[batch].reshape(B, G, K // G, H * W) @ x_rows).sum(axis=0)

        per_sample = x.itemsize * K * Cg
    else:
        def chunk_sum(batch):
            B = batch.stop - batch.start
            col = conv.im2col(x[batch], *geometry.kernel_args())
            col = col.reshape(G, Cg * KH * KW, B * OH * OW)
            return _rows(grad_y[batch], G) @ col.transpose(0, 2, 1)

        per_sample = x.itemsize * (C * KH * KW + K) * OH * OW
    grad_w = sum_over_chunks(chunk_sum, _pool_chunks(N, per_sample, device), device)
    if grad_w is None:  # an empty batch
        return xp.zeros((K, Cg, KH, KW), dtype=x.dtype)
    return grad_w.reshape(K, Cg, KH, KW)


# ---------------------------------------------------------------- fast paths
# Each computes what a building block above computes, in another way; the tests compare
# them with it on drawn geometries (tests/ops/test_conv_fast_paths.py).


WINOGRAD_MIN_CHANNELS = 8
WINOGRAD_MIN_TILES = 512
WINOGRAD_MIN_CHANNEL_TILES = 48 * 1024


def _winograd_pays(geometry, N, C, OH, OW, device):
    """Whether conv_forward takes ``_forward_by_winograd``: a 3x3 kernel, stride 1,
    dilation 1, one group, on the CPU, with at least WINOGRAD_MIN_CHANNELS input
    channels C, at least WINOGRAD_MIN_TILES 2x2 output tiles P = N*ceil(OH/2)*ceil(OW/2)
    in the batch, and C*P at least WINOGRAD_MIN_CHANNEL_TILES. Below those the
    transforms (whose cost grows with C*P) and the 16 GEMMs of P columns cost more than
    the multiplications they save. Measured on 2 cores, forward time / im2col's, for
    (N, C, K, H=W) with padding 1:

        taken   (128,8,8,32) 0.97   (128,16,16,32) 0.87   (128,32,32,16) 0.81
                (128,64,64,8) 0.92  (128,64,64,6) 0.86    (128,128,128,4) 0.85
                (128,512,512,4) 0.75  (8,64,64,56) 0.58   (1,64,64,56) 0.75
        not     (128,3,16,32) 1.56  (128,4,16,32) 1.41    (128,16,16,8) 1.50
                (128,64,64,4) 1.19  (8,16,16,32) 1.05     (1,16,16,32) 1.37
                (128,512,512,2) 1.07  (128,256,256,2) 1.52  (1,256,256,14) 3.09

    Not on the GPU: cuBLAS's speed there has not been measured against the transforms'."""
    g = geometry
    tiles = N * ((OH + 1) // 2) * ((OW + 1) // 2)
    return (
        (g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.G) == (3, 3, 1, 1, 1, 1, 1)
        and device != GPU
        and C >= WINOGRAD_MIN_CHANNELS
        and tiles >= WINOGRAD_MIN_TILES
        and C * tiles >= WINOGRAD_MIN_CHANNEL_TILES
    )


def _forward_by_winograd(x, w, geometry):
    """conv_forward of a 3x3, stride-1, dilation-1, single-group convolution by
    Winograd's F(2x2, 3x3) (kernels/reference/winograd.py derives it): per chunk,

        V = input_transform(x)          (4, 4, C, B, TH, TW): B^T d B per 4x4 input tile
        M[a, b] = U[a, b] @ V[a, b]     16 GEMMs (K, C) @ (C, B*TH*TW), U = G w G^T
        y = output_transform(M)         A^T M A per tile: a 2x2 block of outputs

    The same sums as w @ im2col(x) in another form: 16 products per input channel and
    2x2 output tile where im2col's GEMM has 36, and the transforms in between only add.
    Why: on the CPU the GEMMs are most of a convolution's time, and the transformed tiles
    (4 values per input pixel) are less than half of im2col's columns (9 per pixel). A
    (128, 16, 32, 32) convolution with 16 output channels took 4.9 ms against im2col's
    5.6 ms (2 threads; benchmarks/bench_conv.py has its "cpu-im2col" row). Rounding: each
    output is off by at most about (C + 10) eps times the same computation on absolute
    values, the bound tests/ops/test_conv_fast_paths.py checks (im2col's GEMM: 9*C eps
    times the sum of the absolute products).
    """
    xp, device = namespace(x), device_of_array(x)
    winograd = backend.WINOGRAD.on(device)
    N, C, H, W = x.shape
    K = w.shape[0]
    OH, OW = geometry.output_size(H, W)
    TH, TW = (OH + 1) // 2, (OW + 1) // 2
    u = winograd.weight_transform(w).reshape(16, K, C)
    y = xp.empty((N, K, OH, OW), dtype=x.dtype)

    def forward_chunk(batch):
        B = batch.stop - batch.start
        v = winograd.input_transform(x[batch], geometry.PH, geometry.PW).reshape(16, C, B * TH * TW)
        m = (u @ v).reshape(4, 4, K, B, TH, TW)
        winograd.output_transform(m, OH, OW, out=y[batch])

    per_sample = x.itemsize * 16 * (C + K) * TH * TW  # V and M
    for_each_chunk(forward_chunk, _pool_chunks(N, per_sample, device), device)
    return y


def _flipped_geometry(geometry):
    """The geometry of the convolution that gives a stride-1 convolution's input gradient
    (see ``_input_grad_as_convolution``), or None where there is none: a stride above 1
    (the gradient then reaches only every S-th pixel from each output), or a padding
    wider than the kernel's reach DH*(KH-1) (it would need a negative padding)."""
    g = geometry
    PH, PW = g.DH * (g.KH - 1) - g.PH, g.DW * (g.KW - 1) - g.PW
    if (g.SH, g.SW) != (1, 1) or PH < 0 or PW < 0:
        return None
    return Geometry(g.KH, g.KW, 1, 1, PH, PW, g.DH, g.DW, g.G)


def _input_grad_as_convolution(grad_y, w, geometry):
    """conv_input_grad of a stride-1 convolution as a convolution (the "full" convolution
    of grad_y with the flipped kernel): with stride 1,

        grad_x[n, c, h, w] = sum over k, kh, kw of  w[k, c, kh, kw] grad_y[n, k, h + PH - kh*DH, w + PW - kw*DW]

    and with kh' = KH-1-kh, kw' = KW-1-kw that is conv_forward of grad_y with the weight
    w'[c, k, kh', kw'] = w[k, c, KH-1-kh', KW-1-kw'] (within each group), padding
    (DH*(KH-1) - PH, DW*(KW-1) - PW), stride 1 and the same dilation; its output is
    H x W. The same products as col2im(w^T @ grad_y), summed in another order.

    Why: col2im's GEMM w^T @ grad_y sums over only K/G terms (16 for ResNet-20's first
    stage), a shape that BLAS runs at a fraction of its speed, and col2im then makes a
    second pass over KH*KW times the input's size. Here the GEMM sums over K/G*KH*KW
    terms, like the forward's, and im2col is a plain copy.
    """
    G = geometry.G
    flipped = _flipped_weight(w, G)
    return conv_forward(grad_y, flipped, _flipped_geometry(geometry))


def _stride_one_gradients(x, grad_y, w, geometry):
    """(grad_x, grad_w) of a stride-1 convolution from one set of columns, im2col of
    grad_y in the flipped geometry, where conv_input_grad and conv_weight_grad would
    unfold grad_y and x, one each.

    Those columns are what ``_input_grad_as_convolution`` multiplies by the flipped
    weight; row (k, kh', kw') at input pixel (n, h, w) holds

        colg[k, kh', kw', n, h, w] = grad_y[n, k, h + PH - kh*DH, w + PW - kw*DW],   kh = KH-1-kh', kw = KW-1-kw',

    the very factor that multiplies x[n, c, h, w] in the weight gradient:

        grad_w[k, c, kh, kw] = sum over n, h, w of  colg[k, kh', kw', n, h, w] x[n, c, h, w]

    one GEMM per group, colg @ x_rows^T with x_rows = x read as (C/G, N*H*W), followed
    by flipping (kh', kw') back. The same products as conv_weight_grad's, summed in
    another order. Why: one im2col per backward instead of two, and x_rows is KH*KW
    times smaller than x's columns.
    """
    xp, device = namespace(x), device_of_array(x)
    conv = backend.CONV.on(device)
    N, C, H, W = x.shape
    K, Cg, KH, KW = w.shape
    G = geometry.G
    Kg = K // G
    flipped = _flipped_weight(w, G).reshape(G, Cg, Kg * KH * KW)
    unfold = _flipped_geometry(geometry).kernel_args()
    grad_x = xp.empty((N, C, H, W), dtype=x.dtype)

    def gradients_chunk(batch):
        """grad_x of the chunk, written in place; returns its share of grad_w'."""
        B = batch.stop - batch.start
        col = conv.im2col(grad_y[batch], *unfold).reshape(G, Kg * KH * KW, B * H * W)
        grad_x[batch] = (flipped @ col).reshape(C, B, H, W).transpose(1, 0, 2, 3)
        return col @ _rows(x[batch], G).transpose(0, 2, 1)  # (G, K/G*KH*KW, C/G), rows (k, kh', kw')

    per_sample = x.itemsize * (K * KH * KW + 2 * C) * H * W  # columns, grad_x's GEMM, x_rows
    grad_w_flipped = sum_over_chunks(gradients_chunk, _pool_chunks(N, per_sample, device), device)
    if grad_w_flipped is None:  # an empty batch
        return grad_x, xp.zeros((K, Cg, KH, KW), dtype=x.dtype)
    grad_w = grad_w_flipped.reshape(G, Kg, KH, KW, Cg)[:, :, ::-1, ::-1, :].transpose(0, 1, 4, 2, 3)
    return grad_x, xp.ascontiguousarray(grad_w).reshape(K, Cg, KH, KW)


def _flipped_weight(w, G):
    """w (K, C/G, KH, KW) -> (C, K/G, KH, KW), group by group:
    w'[g*C/G + c, k, kh, kw] = w[g*K/G + k, c, KH-1-kh, KW-1-kw]."""
    K, Cg, KH, KW = w.shape
    per_group = w.reshape(G, K // G, Cg, KH, KW)[:, :, :, ::-1, ::-1]
    flipped = namespace(w).ascontiguousarray(per_group.transpose(0, 2, 1, 3, 4))
    return flipped.reshape(G * Cg, K // G, KH, KW)


class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, geometry):
        ctx.save_for_backward(x, weight)
        ctx.geometry = geometry
        y = conv_forward(x, weight, geometry)
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        _, _, H, W = x.shape
        _, _, KH, KW = weight.shape
        grad_x = grad_weight = grad_bias = None
        geometry = ctx.geometry
        if needs_x and needs_weight and _flipped_geometry(geometry) and not geometry.is_pointwise():
            grad_x, grad_weight = _stride_one_gradients(x, grad_y, weight, geometry)
        else:
            if needs_x:
                grad_x = conv_input_grad(grad_y, weight, geometry, H, W)
            if needs_weight:
                grad_weight = conv_weight_grad(x, grad_y, geometry, KH, KW)
        if needs_bias:
            grad_bias = grad_y.sum(axis=(0, 2, 3))
        return grad_x, grad_weight, grad_bias, None


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution with PyTorch's signature and semantics.

    input (N, C, H, W) or unbatched (C, H, W); weight (K, C/groups, KH, KW); bias (K,).
    stride, dilation: int or (SH, SW) / (DH, DW), at least 1. padding: int or (PH, PW),
    at least 0, or "valid" (no padding) or "same" (output size = input size; stride 1
    only; when the total padding DH*(KH-1) along an axis is odd, the extra row/column
    goes at the bottom/right, as in PyTorch).
    """
    name = "conv2d"
    check_operands(name, input, weight, bias)
    SH, SW = checks.pair(name, "stride", stride, minimum=1)
    DH, DW = checks.pair(name, "dilation", dilation, minimum=1)
    G = checks.integer(name, "groups", groups, minimum=1)
    C = input.shape[-3]
    K, Cg, KH, KW = weight.shape
    if K % G:
        raise ValueError(
            f"{name}: out_channels (weight.shape[0] = {K}) must be divisible by groups = {G}"
        )
    if C % G:
        raise ValueError(
            f"{name}: in_channels (input channels C = {C}) must be divisible by groups = {G}"
        )
    if Cg * G != C:
        raise ValueError(
            f"{name}: weight {tuple(weight.shape)} with groups={G} expects input with "
            f"{Cg * G} channels (weight.shape[1] * groups), got input {tuple(input.shape)} "
            f"with {C} channels"
        )
    check_bias(name, bias, K)

    top, bottom, left, right = checks.conv_padding(name, padding, (KH, KW), (SH, SW), (DH, DW))
    # "same" with an odd total padding: the kernels pad both sides alike, so the extra row
    # (column) at the bottom (right) is added to the input first.
    PH, PW = top, left
    extra_h, extra_w = bottom - top, right - left
    geometry = Geometry(KH, KW, SH, SW, PH, PW, DH, DW, G)
    H, W = input.shape[-2] + extra_h, input.shape[-1] + extra_w
    check_output_size(name, geometry, H, W, input.shape)
    geometry = geometry.with_single_window_strides(H, W)

    x = unsqueeze(input, 0) if input.ndim == 3 else input
    if extra_h or extra_w:
        x = pad(x, (0, extra_w, 0, extra_h))
    y = Conv2d.apply(x, weight, bias, geometry)
    return squeeze(y, 0) if input.ndim == 3 else y


# ---------------------------------------------------------------- argument checks
# Shared with conv_transpose2d. Each raises before any kernel runs and names the
# argument and what was expected.


def check_operands(name, input, weight, bias):  # noqa: A002
    """Types, ranks, dtypes and devices of input (3-D or 4-D), weight (4-D) and bias."""
    tensors = [("input", input), ("weight", weight)]
    if bias is not None:
        tensors.append(("bias", bias))
    for arg, value in tensors:
        checks.float_tensor(name, arg, value)
    if input.ndim not in (3, 4):
        raise ValueError(
            f"{name}: input must be 4-D (N, C, H, W) or 3-D unbatched (C, H, W), got shape "
            f"{tuple(input.shape)}"
        )
    if weight.ndim != 4:
        raise ValueError(f"{name}: weight must be 4-D, got shape {tuple(weight.shape)}")
    for arg, value in tensors[1:]:
        if value.dtype != input.dtype:
            raise TypeError(
                f"{name}: {arg} has dtype {value.dtype} but input has dtype {input.dtype}; "
                "expected the same dtype (convert one with .to())"
            )
        checks.same_device(name, arg, value, input)


def check_bias(name, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise ValueError(
            f"{name}: bias must have shape ({channels},) (one value per output channel), "
            f"got {tuple(bias.shape)}"
        )


def check_output_size(name, geometry, H, W, input_shape):
    """The output must have at least one row and one column."""
    g = geometry
    OH, OW = g.output_size(H, W)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{name}: the output would be empty: (OH, OW) = ({OH}, {OW}) for input "
            f"{tuple(input_shape)} (H={H}, W={W} after 'same' padding if any), kernel "
            f"(KH, KW) = ({g.KH}, {g.KW}), stride ({g.SH}, {g.SW}), padding ({g.PH}, {g.PW}), "
            f"dilation ({g.DH}, {g.DW}); expected OH = (H + 2*PH - DH*(KH-1) - 1) // SH + 1 >= 1 "
            "and likewise OW >= 1"
        )
