"""``max_unpool2d``: the partial inverse of ``max_pool2d`` (ZFNet's "switches").

ZFNet's deconvnet visualizes a feature by running the network backwards; to undo a
max pooling it remembers where each maximum came from (the switches) and puts every
pooled value back there, with zeros everywhere else. With PyTorch's indices
(ih*W + iw inside each (n, c) plane, from ``max_pool2d(..., return_indices=True)``):
    out[n, c].flat[indices[n, c, i, j]] = input[n, c, i, j],   out = 0 elsewhere
    grad_input[n, c, i, j] = grad_out[n, c].flat[indices[n, c, i, j]]   (a gather)

The output size defaults to PyTorch's (IH - 1)*SH - 2*PH + KH (and the same for W);
``output_size`` may choose any size strictly within one stride of it (the sizes that
the pooling could have come from, ceil_mode included).
"""
import numpy as np

from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array, namespace
from ..tensor import Tensor
from . import _pool_args as args
from .pool import as_batch, like_input


class MaxUnpool2d(Function):
    @staticmethod
    def forward(ctx, x, indices, out_size):
        pool = backend.POOL.on(device_of_array(x))
        out = pool.max_unpool2d_forward(as_batch(x), as_batch(indices), *out_size)
        ctx.save_for_backward(indices)
        ctx.pool, ctx.ndim = pool, x.ndim
        return like_input(out, x.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        (indices,) = ctx.saved_tensors
        grad_x = ctx.pool.max_unpool2d_backward(as_batch(grad_out), as_batch(indices))
        return like_input(grad_x, ctx.ndim), None, None


def unpooled_shape(fn, input, kernel, stride, padding, output_size):
    """PyTorch's default size, or ``output_size`` checked against it."""
    IH, IW = input.shape[-2:]
    default = tuple(
        (size - 1) * s - 2 * p + k for size, k, s, p in zip((IH, IW), kernel, stride, padding)
    )
    if output_size is None:
        sizes = default
    else:
        if not isinstance(output_size, (tuple, list)) or not all(checks.is_int(s) for s in output_size):
            raise TypeError(f"{fn}: output_size must be a sequence of ints, got {output_size!r}")
        sizes = tuple(int(s) for s in output_size)
        if len(sizes) == input.ndim:  # PyTorch also accepts the full shape
            sizes = sizes[-2:]
        if len(sizes) != 2:
            raise ValueError(
                f"{fn}: output_size must have 2 (or {input.ndim}) entries, got {output_size!r}"
            )
        for axis, (size, base, s) in enumerate(zip(sizes, default, stride)):
            if not base - s < size < base + s:
                raise ValueError(
                    f"{fn}: output_size {output_size!r} is invalid: dim {axis} must be "
                    f"strictly between {base - s} and {base + s}"
                )
    if min(sizes) < 1:
        raise ValueError(f"{fn}: the output would be empty: (OH, OW) = {sizes}")
    return sizes


def max_unpool2d(
    input,  # noqa: A002 - PyTorch's argument name
    indices,
    kernel_size,
    stride=None,
    padding=0,
    output_size=None,
):
    """Put each value of ``input`` back at its ``indices`` in a zero (OH, OW) plane."""
    fn = "max_unpool2d"
    args.check_spatial_input(fn, input)
    if not isinstance(indices, Tensor) or indices.dtype != np.int64:
        detail = indices.dtype if isinstance(indices, Tensor) else type(indices).__name__
        raise TypeError(f"{fn}: indices must be an int64 Tensor, got {detail}")
    if indices.shape != input.shape:
        raise ValueError(
            f"{fn}: indices must have the shape of input {input.shape}, got {indices.shape}"
        )
    if indices.device != input.device:
        raise RuntimeError(
            f"{fn}: input and indices must be on the same device, got {input.device} "
            f"and {indices.device}"
        )
    kernel = checks.pair(fn, "kernel_size", kernel_size)
    stride = kernel if stride is None else checks.pair(fn, "stride", stride)
    padding = checks.pair(fn, "padding", padding)
    args.check_positive(fn, "kernel_size", kernel)
    args.check_positive(fn, "stride", stride)
    if min(padding) < 0:
        raise ValueError(f"{fn}: padding must be non-negative, got {padding}")
    OH, OW = unpooled_shape(fn, input, kernel, stride, padding, output_size)
    if indices.numel():
        xp = namespace(indices.array)
        low, high = int(xp.min(indices.array)), int(xp.max(indices.array))
        if low < 0 or high >= OH * OW:
            raise ValueError(
                f"{fn}: indices must lie in [0, OH*OW) = [0, {OH * OW}) for the output "
                f"(OH, OW) = {(OH, OW)}, found values in [{low}, {high}]"
            )
    return MaxUnpool2d.apply(input, indices, (OH, OW))
