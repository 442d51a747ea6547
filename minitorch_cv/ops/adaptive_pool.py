"""Adaptive pooling: ``adaptive_avg_pool2d`` and ``adaptive_max_pool2d``.

The output size (OH, OW) is given and the windows ("bins") adapt to it, PyTorch's rule:
    bin oh covers rows  floor(oh*H/OH) .. ceil((oh+1)*H/OH) - 1
    bin ow covers cols  floor(ow*W/OW) .. ceil((ow+1)*W/OW) - 1
Bins tile the input exactly when OH divides H, and overlap by one row otherwise.
Average: out = mean of the bin, backward spreads grad / (bin area) over the bin. Max:
out = max of the bin with PyTorch's indices (ih*W + iw, first maximum), backward routes
each gradient to its argmax.

``output_size`` is an int, or a pair whose entries are ints or None (None keeps the
input's size on that axis). ``adaptive_avg_pool2d(x, 1)`` is global average pooling
(ResNet's head); it is computed as a mean over (H, W) with NumPy/CuPy's reduction,
which is faster than one kernel thread summing each whole plane.
"""
from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array, namespace
from . import _pool_args as args
from .pool import as_batch, like_input


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, out_size):
        ctx.shape, ctx.ndim = x.shape, x.ndim
        ctx.global_pool = out_size == (1, 1)
        if ctx.global_pool:
            return x.mean(axis=(-2, -1), keepdims=True)
        pool = backend.POOL.on(device_of_array(x))
        ctx.pool = pool
        out = pool.adaptive_avg_pool2d_forward(as_batch(x), *out_size)
        return like_input(out, x.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        H, W = ctx.shape[-2:]
        if ctx.global_pool:
            # d mean / d x = 1 / (H*W) for every pixel of the plane.
            return namespace(grad_out).broadcast_to(grad_out / (H * W), ctx.shape), None
        grad_x = ctx.pool.adaptive_avg_pool2d_backward(as_batch(grad_out), H, W)
        return like_input(grad_x, ctx.ndim), None


class AdaptiveMaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, out_size):
        pool = backend.POOL.on(device_of_array(x))
        out, argmax = pool.adaptive_max_pool2d_forward(as_batch(x), *out_size)
        ctx.save_for_backward(argmax)
        ctx.pool, ctx.shape, ctx.ndim = pool, x.shape, x.ndim
        return like_input(out, x.ndim), like_input(argmax, x.ndim)

    @staticmethod
    def backward(ctx, grad_out, grad_indices):
        (argmax,) = ctx.saved_tensors
        H, W = ctx.shape[-2:]
        grad_x = ctx.pool.adaptive_max_pool2d_backward(as_batch(grad_out), argmax, H, W)
        return like_input(grad_x, ctx.ndim), None


def adaptive_output_size(fn, input, output_size):
    """``output_size`` (int, or a pair of ints / None) as a pair of positive ints."""
    H, W = input.shape[-2:]
    if checks.is_int(output_size):
        sizes = (output_size, output_size)
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 2 and all(
        s is None or checks.is_int(s) for s in output_size
    ):
        sizes = output_size
    else:
        raise checks.ArgumentTypeError(
            f"{fn}: output_size must be an int or a pair of ints (or None), got {output_size!r}"
        )
    sizes = tuple(int(size if s is None else s) for s, size in zip(sizes, (H, W)))
    if min(sizes) < 1:
        raise ValueError(f"{fn}: output_size must be positive, got {output_size!r}")
    return sizes


def adaptive_avg_pool2d(input, output_size):  # noqa: A002 - PyTorch's argument name
    """Average pooling to a fixed (OH, OW) over an (N, C, H, W) or (C, H, W) tensor."""
    fn = "adaptive_avg_pool2d"
    args.check_spatial_input(fn, input)
    return AdaptiveAvgPool2d.apply(input, adaptive_output_size(fn, input, output_size))


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling to a fixed (OH, OW); with ``return_indices=True`` also the int64
    argmax indices (ih*W + iw per plane, as for ``max_pool2d``)."""
    fn = "adaptive_max_pool2d"
    args.check_spatial_input(fn, input)
    out, indices = AdaptiveMaxPool2d.apply(input, adaptive_output_size(fn, input, output_size))
    return (out, indices) if return_indices else out
