"""Strided pooling: ``max_pool2d`` and ``avg_pool2d`` (PyTorch's signatures).

Notation: N C H W, OH OW, KH KW, SH SW, PH PW, DH DW. Output size along each axis
(PyTorch's rule, see ``_pool_args.pooled_size``):
    OH = floor((H + 2*PH - DH*(KH-1) - 1) / SH) + 1        (ceil with ceil_mode, but the
                                                              last window must start
                                                              inside the input or the
                                                              left padding)

max_pool2d: out = max over the window (padding is -inf, so it never wins); the
indices (return_indices=True) are PyTorch's, ih*W + iw inside each (n, c) plane, with
ties going to the FIRST maximum in scan order. Backward routes each output gradient
to its argmax; overlapping windows (AlexNet's 3x3 / stride 2) can route several
gradients into one input pixel, and they add up.

avg_pool2d: out = (sum of the window's in-bounds values) / divisor, PyTorch's divisor:
the window clipped to the padded image [-PH, H+PH) (so the ceil_mode overhang never
counts) when count_include_pad, the number of in-bounds values otherwise, or
divisor_override. Backward spreads grad/divisor evenly over the window.

Both accept a 3-D (C, H, W) input as one unbatched image, like PyTorch.
"""
from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array
from . import _pool_args as args


def as_batch(a):
    """A 3-D (C, H, W) array as a batch of one image; 4-D arrays pass through."""
    return a[None] if a.ndim == 3 else a


def like_input(a, ndim):
    """Undo ``as_batch`` for an input of rank ``ndim``."""
    return a[0] if ndim == 3 else a


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out_size):
        pool = backend.POOL.on(device_of_array(x))
        batch = as_batch(x)
        (KH, KW), (SH, SW), (PH, PW), (DH, DW), (OH, OW) = kernel, stride, padding, dilation, out_size
        out, argmax = pool.max_pool2d_forward(batch, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
        ctx.save_for_backward(argmax)
        ctx.pool, ctx.ndim, ctx.geometry = pool, x.ndim, (kernel, stride, padding, dilation)
        ctx.H, ctx.W = batch.shape[2:]
        return like_input(out, x.ndim), like_input(argmax, x.ndim)

    @staticmethod
    def backward(ctx, grad_out, grad_indices):
        (argmax,) = ctx.saved_tensors
        (KH, KW), (SH, SW), (PH, PW), (DH, DW) = ctx.geometry
        grad_x = ctx.pool.max_pool2d_backward(
            as_batch(grad_out), argmax, ctx.H, ctx.W, KH, KW, SH, SW, PH, PW, DH, DW
        )
        return like_input(grad_x, ctx.ndim), None, None, None, None, None


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size, count_include_pad, divisor_override):
        pool = backend.POOL.on(device_of_array(x))
        batch = as_batch(x)
        (KH, KW), (SH, SW), (PH, PW), (OH, OW) = kernel, stride, padding, out_size
        out = pool.avg_pool2d_forward(
            batch, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override
        )
        ctx.pool, ctx.ndim = pool, x.ndim
        ctx.geometry = (kernel, stride, padding, count_include_pad, divisor_override)
        ctx.H, ctx.W = batch.shape[2:]
        return like_input(out, x.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        (KH, KW), (SH, SW), (PH, PW), count_include_pad, divisor_override = ctx.geometry
        grad_x = ctx.pool.avg_pool2d_backward(
            as_batch(grad_out), ctx.H, ctx.W, KH, KW, SH, SW, PH, PW,
            count_include_pad, divisor_override,
        )
        return like_input(grad_x, ctx.ndim), None, None, None, None, None, None


def max_pool2d(
    input,  # noqa: A002 - PyTorch's argument name
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """2-D max pooling over an (N, C, H, W) or (C, H, W) tensor; with
    ``return_indices=True`` also the int64 argmax indices (for ``max_unpool2d``)."""
    fn = "max_pool2d"
    args.check_spatial_input(fn, input)
    kernel, stride, padding, dilation = args.window_args(fn, kernel_size, stride, padding, dilation)
    H, W = input.shape[-2:]
    out_size = args.pooled_shape(fn, H, W, kernel, stride, padding, dilation, bool(ceil_mode))
    out, indices = MaxPool2d.apply(input, kernel, stride, padding, dilation, out_size)
    return (out, indices) if return_indices else out


def avg_pool2d(
    input,  # noqa: A002 - PyTorch's argument name
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """2-D average pooling over an (N, C, H, W) or (C, H, W) tensor."""
    fn = "avg_pool2d"
    args.check_spatial_input(fn, input)
    kernel, stride, padding, dilation = args.window_args(fn, kernel_size, stride, padding, 1)
    if divisor_override is None:
        divisor = 0  # the kernels' "no override"
    elif checks.is_int(divisor_override) and divisor_override != 0:
        divisor = int(divisor_override)
    else:
        raise ValueError(
            f"{fn}: divisor_override must be None or a non-zero int, got {divisor_override!r}"
        )
    H, W = input.shape[-2:]
    out_size = args.pooled_shape(fn, H, W, kernel, stride, padding, dilation, bool(ceil_mode))
    return AvgPool2d.apply(input, kernel, stride, padding, out_size, bool(count_include_pad), divisor)
