"""Rearranging values into a new tensor: flip, roll, repeat, repeat_interleave, meshgrid,
pixel_shuffle / pixel_unshuffle. Every output element is a copy of one input element
(a new tensor, as in PyTorch, except meshgrid's expanded views), so each backward sends
the gradient back to the element it was copied from, adding where one was copied
several times:

    flip(x, dims)            out[i] = x[size - 1 - i] along dims;   grad: flip it back
    roll(x, shifts, dims)    out[i] = x[(i - shift) mod size];      grad: roll by -shift
    repeat(x, r0, r1, ...)   tiles x r_d times along dim d;         grad: sum the tiles
    repeat_interleave(x, r)  element i repeated r_i times in a row; grad: sum each run
    pixel_shuffle(x, r)      (N, C r^2, H, W) -> (N, C, H r, W r):  a reshape/permute
"""
import warnings

import numpy as np

from .. import checks, dtypes
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from ._util import normalize_dim
from .gather import scatter_add_into
from .shape import expand, permute, reshape


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return namespace(x).flip(x, dims).copy()  # NumPy's flip is a view; PyTorch's a copy

    @staticmethod
    def backward(ctx, grad):
        return namespace(grad).flip(grad, ctx.dims).copy(), None


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return namespace(x).roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return namespace(grad).roll(grad, back, ctx.dims), None, None


class Repeat(Function):
    """Tile x (padded with leading 1s to len(repeats) dims) r_d times along dim d."""

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.shape = (1,) * (len(repeats) - x.ndim) + x.shape
        ctx.in_shape, ctx.repeats = x.shape, repeats
        return namespace(x).tile(x.reshape(ctx.shape), repeats)

    @staticmethod
    def backward(ctx, grad):
        # (r0 s0, r1 s1, ...) -> (r0, s0, r1, s1, ...), summed over the r axes.
        split = []
        for r, s in zip(ctx.repeats, ctx.shape):
            split += [r, s]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.in_shape), None


class RepeatInterleave(Function):
    """out = x with element i along dim repeated ``repeats[i]`` times (repeats: a NumPy
    array of one count per element)."""

    @staticmethod
    def forward(ctx, x, repeats, dim):
        xp = namespace(x)
        ctx.shape, ctx.dim = x.shape, dim
        # out position -> element it copies, made on the host (CuPy's repeat takes no array)
        ctx.source = xp.asarray(np.repeat(np.arange(x.shape[dim]), repeats))
        return xp.take(x, ctx.source, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grad_x = namespace(grad).zeros(ctx.shape, dtype=grad.dtype)
        scatter_add_into(grad_x, (slice(None),) * ctx.dim + (ctx.source,), grad)
        return grad_x, None, None


# ------------------------------------------------------------------ wrappers

def _dims_tuple(name, dims, ndim):
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    normalized = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(normalized)) != len(normalized):
        raise RuntimeError(f"{name}: dims has duplicates, got {dims}")
    return normalized


def flip(input, dims):  # noqa: A002 - PyTorch's argument name
    checks.tensor("flip", "input", input)
    if input.ndim == 0:
        return Flip.apply(input, ())
    return Flip.apply(input, _dims_tuple("flip", dims, input.ndim))


def roll(input, shifts, dims=None):  # noqa: A002
    """Elements shifted cyclically by ``shifts`` along ``dims`` (None: the flattened
    tensor, then back to the input's shape)."""
    checks.tensor("roll", "input", input)
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: with dims=None, shifts must be one int, got {shifts}")
            shifts = shifts[0]
        return reshape(Roll.apply(reshape(input, (-1,)), int(shifts), 0), input.shape)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = _dims_tuple("roll", dims, input.ndim)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    return Roll.apply(input, tuple(int(s) for s in shifts), dims)


def repeat(input, *sizes):  # noqa: A002
    """``x.repeat(r0, r1, ...)``: x tiled r_d times along dim d (leading dims added when
    more sizes than dims are given, as in PyTorch)."""
    checks.tensor("repeat", "input", input)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            f"of tensor (repeat {sizes} for a tensor of shape {input.shape})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {sizes}")
    return Repeat.apply(input, sizes)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Each element repeated ``repeats`` times (an int, or a 1-D int64 tensor with one
    count per element along dim; dim None: the flattened input). With a single tensor
    argument, ``repeat_interleave(r)`` gives index i repeated r[i] times."""
    checks.tensor("repeat_interleave", "input", input)
    if repeats is None:  # the one-argument form
        counts = _counts("repeat_interleave", input, None)
        indices = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        return Tensor._wrap(namespace(input.array).asarray(indices))
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    dim = normalize_dim(dim, input.ndim)
    counts = _counts("repeat_interleave", repeats, input.shape[dim])
    if output_size is not None and int(counts.sum()) != output_size:
        raise RuntimeError(
            f"repeat_interleave: output_size {output_size} differs from the total of the "
            f"repeats {int(counts.sum())}"
        )
    return RepeatInterleave.apply(input, counts, dim)


def _counts(name, repeats, size):
    """The repeats as a non-negative int64 NumPy array of ``size`` counts (an int
    repeats every element)."""
    if isinstance(repeats, Tensor):
        if repeats.dtype not in (dtypes.int64, dtypes.int32) or repeats.ndim > 1:
            raise RuntimeError(
                f"{name}: repeats must be a 0-d or 1-d int tensor, got {repeats.dtype} "
                f"{repeats.shape}"
            )
        counts = repeats._host_array().reshape(-1).astype(np.int64)
    elif isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
        counts = np.full(1, int(repeats), dtype=np.int64)
    else:
        raise TypeError(
            f"{name}: repeats must be an int or an int tensor, got {type(repeats).__name__}"
        )
    if size is not None:
        if counts.size == 1:
            counts = np.full(size, int(counts[0]), dtype=np.int64)
        elif counts.size != size:
            raise RuntimeError(
                f"{name}: repeats must have the same size as input along dim ({size}), got "
                f"{counts.size}"
            )
    if counts.size and int(counts.min()) < 0:
        raise RuntimeError(f"{name}: repeats can not be negative")
    return counts


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: with indexing "ij" output k varies along dim
    k; with "xy" the first two dims are swapped (Cartesian, as NumPy's default).
    The outputs are expanded views, as in PyTorch."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f'meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        checks.tensor("meshgrid", "input", t)
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0D or 1D tensors, got shape {t.shape}")
    if not tensors:
        return ()
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors = (tensors[1], tensors[0]) + tuple(tensors[2:])
    sizes = tuple(t.numel() for t in tensors)
    grids = []
    for k, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[k] = sizes[k]
        grids.append(expand(reshape(t, tuple(shape)), sizes))
    if swap:  # "xy" is "ij" of (y, x, ...) with the first two grids exchanged
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def pixel_shuffle(input, upscale_factor):  # noqa: A002
    """(*, C r^2, H, W) -> (*, C, H r, W r): out[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]."""
    checks.tensor("pixel_shuffle", "input", input)
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor ({r * r}), got input of shape {input.shape}"
        )
    *batch, C, H, W = input.shape
    lead = len(batch)
    x = reshape(input, (*batch, C // (r * r), r, r, H, W))
    x = permute(x, tuple(range(lead)) + tuple(lead + d for d in (0, 3, 1, 4, 2)))
    return reshape(x, (*batch, C // (r * r), H * r, W * r))


def pixel_unshuffle(input, downscale_factor):  # noqa: A002
    """The inverse of pixel_shuffle: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    checks.tensor("pixel_unshuffle", "input", input)
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height and width to be divisible by downscale_factor "
            f"({r}), got input of shape {input.shape}"
        )
    *batch, C, H, W = input.shape
    lead = len(batch)
    x = reshape(input, (*batch, C, H // r, r, W // r, r))
    x = permute(x, tuple(range(lead)) + tuple(lead + d for d in (0, 2, 4, 1, 3)))
    return reshape(x, (*batch, C * r * r, H // r, W // r))


def _factor(name, arg, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
    return int(value)

