"""Spatial transformers (Jaderberg et al., 2015): ``affine_grid`` and ``grid_sample``.

``affine_grid(theta, (N, C, H, W))`` gives, for every output pixel, where to read the
input: the pixel's normalized coordinates (x, y) in [-1, 1] (column, row), moved by
the 2x3 affine matrix theta[n]:

    grid[n, h, w] = theta[n] @ (x_w, y_h, 1)
    x_w = -1 + 2 w / (W - 1)                  align_corners=True  (pixel centres)
    x_w = (-1 + 2 w / (W - 1)) (W - 1) / W    align_corners=False (pixel areas)
    (and y_h with H; a single pixel sits at 0)

It is a matrix product with a constant base grid, so it is differentiable in theta
through matmul. ``grid_sample(input, grid)`` reads input bilinearly at those positions
(kernels/reference/grid_sample.py has the formulas); its backward gives the gradient
of both the input and the grid, so theta can be learned.

Provided: mode "bilinear", padding_mode "zeros" or "border". PyTorch also has
"nearest" and "bicubic" modes and "reflection" padding.
"""
import warnings

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..devices import device_of_array, namespace
from ..tensor import Tensor
from .matmul import matmul

MODES = ("bilinear",)
PADDING_MODES = ("zeros", "border")
_ALIGN_CORNERS_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


class GridSample(Function):
    @staticmethod
    def forward(ctx, x, grid, border, align_corners):
        kernels = backend.GRID_SAMPLE.on(device_of_array(x))
        ctx.save_for_backward(x, grid)
        ctx.kernels, ctx.border, ctx.align_corners = kernels, border, align_corners
        return kernels.grid_sample_forward(x, grid, border, align_corners)

    @staticmethod
    def backward(ctx, grad_out):
        x, grid = ctx.saved_tensors
        grad_x, grad_grid = ctx.kernels.grid_sample_backward(
            grad_out, x, grid, ctx.border, ctx.align_corners
        )
        return (
            grad_x if ctx.needs_input_grad[0] else None,
            grad_grid if ctx.needs_input_grad[1] else None,
            None,
            None,
        )


def _align_corners(align_corners):
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, UserWarning, stacklevel=3)
        return False
    if not isinstance(align_corners, bool):
        raise TypeError(f"align_corners must be None or a bool, got {align_corners!r}")
    return align_corners


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):  # noqa: A002
    """Sample input (N, C, H, W) at grid (N, OH, OW, 2) -> (N, C, OH, OW)."""
    name = "grid_sample"
    for arg, value in (("input", input), ("grid", grid)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {arg} must be a Tensor, got {type(value).__name__}")
    if mode not in MODES:
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear' (minitorch_cv has no "
            f"'nearest' or 'bicubic' grid sampling), but got: '{mode}'"
        )
    if padding_mode not in PADDING_MODES:
        raise ValueError(
            f"nn.functional.grid_sample(): expected padding_mode to be 'zeros' or 'border' "
            f"(minitorch_cv has no 'reflection'), but got: '{padding_mode}'"
        )
    align_corners = _align_corners(align_corners)
    if input.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {input.shape}")
    if grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ValueError(
            f"{name}: grid must have shape (N, OH, OW, 2) with N = {input.shape[0]}, got "
            f"{grid.shape}"
        )
    if not dtypes.is_floating(input.dtype) or grid.dtype != input.dtype:
        raise TypeError(
            f"{name}: expected input and grid to have the same floating dtype, but input has "
            f"{input.dtype} and grid has {grid.dtype}"
        )
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"{name}: input must be float32 or float64, got {input.dtype}")
    if grid.device != input.device:
        raise RuntimeError(f"{name}: grid is on {grid.device} but input is on {input.device}")
    if min(input.shape[2:]) < 1:
        raise ValueError(f"{name}: the input's spatial size must be positive, got {input.shape}")
    return GridSample.apply(input, grid, padding_mode == "border", align_corners)


def _base_coordinates(steps, align_corners, dtype):
    """The normalized coordinates of ``steps`` pixels along one axis."""
    if steps <= 1:
        return np.zeros(max(steps, 0), dtype=dtype)
    line = np.linspace(-1, 1, steps)
    if not align_corners:
        line = line * (steps - 1) / steps
    return line.astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """theta (N, 2, 3) -> grid (N, H, W, 2) for an output of size (N, C, H, W)."""
    name = "affine_grid"
    if not isinstance(theta, Tensor) or not dtypes.is_floating(theta.dtype):
        raise TypeError(
            f"Expected theta to have floating point type, but got "
            f"{theta.dtype if isinstance(theta, Tensor) else type(theta).__name__}"
        )
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(
            f"affine_grid only supports 4D sizes (2D affine transforms) in minitorch_cv. Got size {size}."
        )
    if theta.ndim != 3 or theta.shape[1:] != (2, 3) or theta.shape[0] != size[0]:
        raise ValueError(
            f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got {theta.shape}."
        )
    align_corners = _align_corners(align_corners)
    N, _, H, W = size
    if align_corners and min(H, W) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.",
            UserWarning,
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    xs = _base_coordinates(W, align_corners, theta.dtype)
    ys = _base_coordinates(H, align_corners, theta.dtype)
    base = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], np.ones((1, 1), theta.dtype)), -1)
    base = Tensor(namespace(theta.array).asarray(base.reshape(1, H * W, 3)))
    grid = matmul(base, theta.transpose(1, 2))  # (N, H*W, 2)
    return grid.reshape(N, H, W, 2)
