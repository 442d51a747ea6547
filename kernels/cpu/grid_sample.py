"""Bilinear grid sampling in Numba: the CPU implementation of the "grid_sample" family.

Same names, signatures and results as kernels/reference/grid_sample.py, whose
docstring has the formulas (pixel coordinates, padding, the four weights, the
derivatives). ``_pixel_coordinate``, ``_neighbours``, ``_read`` and ``_scatter`` are
line-for-line twins of the device functions of the same names (without Python's
leading underscore) in kernels/cuda/grid_sample.cu.

Parallelism:
  forward:  ``prange`` over the N*OH*OW output positions, decoded as the CUDA thread
            decodes its index (ow fastest, then oh, then n); each loops over the C
            channels with the same coordinates, as the CUDA thread does.
  backward: ``prange`` over the N samples. The input gradient is a scatter (a grid
            point adds into the four pixels it read, and several grid points may read
            the same pixel); one iteration owns a whole sample's gradient, so there are
            no races and no atomics. The CUDA kernel runs one thread per grid point and
            adds with atomicAdd instead. Inside, the loops over (oh, ow) and c are the
            CUDA thread's decoding and channel loop.
"""
import numpy as np
from numba import njit, prange

from ..reference.grid_sample import _OUTSIDE


@njit(cache=True)
def _pixel_coordinate(coord, size, border, align_corners):
    """(pixel coordinate, d pixel / d coord) of one normalized coordinate."""
    one = type(coord)(1)
    two = type(coord)(2)
    if align_corners:
        pixel = (coord + one) / two * type(coord)(size - 1)
        slope = type(coord)(size - 1) / two
    else:
        pixel = ((coord + one) * type(coord)(size) - one) / two
        slope = type(coord)(size) / two
    if border:
        if not (pixel > 0 and pixel < size - 1):
            slope = type(coord)(0)
        # (comparisons, so that NaN stays NaN and is moved OUTSIDE below)
        if pixel < 0:
            pixel = type(coord)(0)
        elif pixel > size - 1:
            pixel = type(coord)(size - 1)
    if not (pixel >= -2 and pixel <= size + 1):  # far away, or NaN
        pixel = type(coord)(_OUTSIDE)
    return pixel, slope


@njit(cache=True)
def _neighbours(gx, gy, H, W, border, align_corners):
    """Where one grid point reads: (x0, y0) the top-left neighbour, the distances that
    weigh the four neighbours (west = x0 + 1 - ix, east = ix - x0, north = y0 + 1 - iy,
    south = iy - y0), and the slopes d ix / d gx, d iy / d gy."""
    ix, slope_x = _pixel_coordinate(gx, W, border, align_corners)
    iy, slope_y = _pixel_coordinate(gy, H, border, align_corners)
    x0f = np.floor(ix)
    y0f = np.floor(iy)
    return (int(x0f), int(y0f), x0f + 1 - ix, ix - x0f, y0f + 1 - iy, iy - y0f,
            slope_x, slope_y)


@njit(cache=True)
def _read(x, n, c, row, col, H, W):
    """x[n, c, row, col], or 0 outside the input."""
    if row < 0 or row >= H or col < 0 or col >= W:
        return x.dtype.type(0)
    return x[n, c, row, col]


@njit(parallel=True, cache=True)
def _forward(x, grid, out, border, align_corners):
    N, C, H, W = x.shape
    OH, OW = grid.shape[1], grid.shape[2]
    for index in prange(N * OH * OW):
        ow = index % OW
        oh = (index // OW) % OH
        n = index // (OH * OW)
        x0, y0, west, east, north, south, _, _ = _neighbours(
            grid[n, oh, ow, 0], grid[n, oh, ow, 1], H, W, border, align_corners
        )
        for c in range(C):
            out[n, c, oh, ow] = (
                west * north * _read(x, n, c, y0, x0, H, W)
                + east * north * _read(x, n, c, y0, x0 + 1, H, W)
                + west * south * _read(x, n, c, y0 + 1, x0, H, W)
                + east * south * _read(x, n, c, y0 + 1, x0 + 1, H, W)
            )


@njit(parallel=True, cache=True)
def _backward(grad_out, x, grid, grad_x, grad_grid, border, align_corners):
    N, C, H, W = x.shape
    OH, OW = grid.shape[1], grid.shape[2]
    for n in prange(N):
        for position in range(OH * OW):
            ow = position % OW
            oh = position // OW
            x0, y0, west, east, north, south, slope_x, slope_y = _neighbours(
                grid[n, oh, ow, 0], grid[n, oh, ow, 1], H, W, border, align_corners
            )
            d_ix = x.dtype.type(0)
            d_iy = x.dtype.type(0)
            for c in range(C):
                g = grad_out[n, c, oh, ow]
                nw = _read(x, n, c, y0, x0, H, W)
                ne = _read(x, n, c, y0, x0 + 1, H, W)
                sw = _read(x, n, c, y0 + 1, x0, H, W)
                se = _read(x, n, c, y0 + 1, x0 + 1, H, W)
                _scatter(grad_x, n, c, y0, x0, H, W, g * west * north)
                _scatter(grad_x, n, c, y0, x0 + 1, H, W, g * east * north)
                _scatter(grad_x, n, c, y0 + 1, x0, H, W, g * west * south)
                _scatter(grad_x, n, c, y0 + 1, x0 + 1, H, W, g * east * south)
                d_ix += g * (north * (ne - nw) + south * (se - sw))
                d_iy += g * (west * (sw - nw) + east * (se - ne))
            grad_grid[n, oh, ow, 0] = d_ix * slope_x
            grad_grid[n, oh, ow, 1] = d_iy * slope_y


@njit(cache=True)
def _scatter(grad_x, n, c, row, col, H, W, value):
    """grad_x[n, c, row, col] += value where (row, col) is inside the input."""
    if row >= 0 and row < H and col >= 0 and col < W:
        grad_x[n, c, row, col] += value


def grid_sample_forward(x, grid, border, align_corners):
    N, C = x.shape[:2]
    OH, OW = grid.shape[1:3]
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    _forward(np.ascontiguousarray(x), np.ascontiguousarray(grid), out, bool(border),
             bool(align_corners))
    return out


def grid_sample_backward(grad_out, x, grid, border, align_corners):
    grad_x = np.zeros(x.shape, dtype=x.dtype)
    grad_grid = np.empty(grid.shape, dtype=grid.dtype)
    _backward(np.ascontiguousarray(grad_out), np.ascontiguousarray(x),
              np.ascontiguousarray(grid), grad_x, grad_grid, bool(border), bool(align_corners))
    return grad_x, grad_grid
