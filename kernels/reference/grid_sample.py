"""Bilinear grid sampling in NumPy: the readable specification of the "grid_sample" family.

Notation: input x (N, C, H, W); grid (N, OH, OW, 2) holding, for every output pixel
(oh, ow), a source position (gx, gy) in normalized coordinates: -1 is the left (top)
edge of the input and +1 the right (bottom) edge. Output (N, C, OH, OW).

1. Pixel coordinates (PyTorch's grid_sampler_unnormalize):
       align_corners=True:   ix = (gx + 1) / 2 * (W - 1)       (-1, +1 = the corner pixels' centres)
       align_corners=False:  ix = ((gx + 1) * W - 1) / 2       (-1, +1 = the corner pixels' outer edges)
   and the same for iy with H. d ix / d gx = (W - 1) / 2, or W / 2.
2. Padding: "zeros" reads 0 outside the input; "border" (``border=True``) clips ix to
   [0, W - 1] first, and then d ix / d gx = 0 where it clipped (at 0 and W - 1 too,
   as PyTorch's clip_coordinates_set_grad). A coordinate that is not finite, or lies
   more than one pixel outside, reads only zeros: it is set to -100 (PyTorch's
   safe_downgrade_to_int_range does the same for non-finite ones), which keeps every
   kernel's integer arithmetic in range.
3. Bilinear weights of the four neighbours, x0 = floor(ix), y0 = floor(iy):
       nw = (x0 + 1 - ix) (y0 + 1 - iy)    at (y0,     x0)
       ne = (ix - x0)     (y0 + 1 - iy)    at (y0,     x0 + 1)
       sw = (x0 + 1 - ix) (iy - y0)        at (y0 + 1, x0)
       se = (ix - x0)     (iy - y0)        at (y0 + 1, x0 + 1)
       out[n, c, oh, ow] = nw v_nw + ne v_ne + sw v_sw + se v_se    (added in this order;
                                                                     v = 0 out of bounds)
4. Backward, with g = grad_out[n, c, oh, ow]:
       grad_x at each in-bounds neighbour += g * its weight          (a scatter)
       d out / d ix = (y0 + 1 - iy)(v_ne - v_nw) + (iy - y0)(v_se - v_sw)
       d out / d iy = (x0 + 1 - ix)(v_sw - v_nw) + (ix - x0)(v_se - v_ne)
   (x0 + 1 - ix, ix - x0, y0 + 1 - iy, iy - y0 are computed once, as "west", "east",
   "north", "south", and every weight and derivative is built from them.)
       grad_grid[n, oh, ow] = (sum over c of g * d out / d ix, ... / d iy) * (d ix / d gx, d iy / d gy)

Exported kernels (the same names and signatures in kernels/cpu/grid_sample.py and
kernels/cuda/grid_sample.py):
    grid_sample_forward(x, grid, border, align_corners) -> out
    grid_sample_backward(grad_out, x, grid, border, align_corners) -> (grad_x, grad_grid)
"""
import numpy as np

_OUTSIDE = -100.0  # where a far-away or non-finite coordinate is moved (reads zeros)


def _source_index(coord, size, border, align_corners):
    """(pixel coordinate, d coordinate / d normalized coordinate), steps 1 and 2.
    (Infinite and NaN coordinates are expected: they end up OUTSIDE.)"""
    with np.errstate(invalid="ignore", over="ignore"):
        return _source_index_of_finite_or_not(coord, size, border, align_corners)


def _source_index_of_finite_or_not(coord, size, border, align_corners):
    dtype = coord.dtype.type
    if align_corners:
        pixel = (coord + dtype(1)) / dtype(2) * dtype(size - 1)
        slope = np.full(coord.shape, dtype(size - 1) / dtype(2))
    else:
        pixel = ((coord + dtype(1)) * dtype(size) - dtype(1)) / dtype(2)
        slope = np.full(coord.shape, dtype(size) / dtype(2))
    if border:
        inside = (pixel > 0) & (pixel < size - 1)
        pixel = np.minimum(np.maximum(pixel, dtype(0)), dtype(size - 1))
        slope = np.where(inside, slope, dtype(0))
    near = (pixel >= -2) & (pixel <= size + 1)  # False for NaN
    return np.where(near, pixel, dtype(_OUTSIDE)).astype(coord.dtype), slope.astype(coord.dtype)


def _neighbours(ix, iy):
    """The four neighbours (dy, dx, weight) in the order nw, ne, sw, se, the four
    differences (x0 + 1 - ix, ix - x0, y0 + 1 - iy, iy - y0) and (x0, y0) as integers."""
    x0, y0 = np.floor(ix), np.floor(iy)
    one = ix.dtype.type(1)
    east, west = ix - x0, x0 + one - ix  # distances to the left and right columns
    south, north = iy - y0, y0 + one - iy
    weights = [(0, 0, west * north), (0, 1, east * north), (1, 0, west * south), (1, 1, east * south)]
    return weights, (west, east, north, south), x0.astype(np.int64), y0.astype(np.int64)


def _read(x, n, ys, xs):
    """x[n, :, ys, xs] moved to (C, N, OH, OW), 0 where (ys, xs) is out of bounds."""
    H, W = x.shape[2:]
    valid = (ys >= 0) & (ys < H) & (xs >= 0) & (xs < W)
    values = x[n, :, np.clip(ys, 0, H - 1), np.clip(xs, 0, W - 1)]  # (N, OH, OW, C)
    return np.where(valid[..., None], values, 0).transpose(3, 0, 1, 2), valid


def grid_sample_forward(x, grid, border, align_corners):
    """out[n, c, oh, ow] = bilinear sample of x[n, c] at grid[n, oh, ow] (see above)."""
    N, C, H, W = x.shape
    ix, _ = _source_index(grid[..., 0], W, border, align_corners)
    iy, _ = _source_index(grid[..., 1], H, border, align_corners)
    weights, _, x0, y0 = _neighbours(ix, iy)
    n = np.arange(N).reshape(N, 1, 1)
    out = np.zeros((C,) + ix.shape, dtype=x.dtype)
    for dy, dx, weight in weights:
        values, _ = _read(x, n, y0 + dy, x0 + dx)
        out = out + weight * values
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3))


def grid_sample_backward(grad_out, x, grid, border, align_corners):
    """(grad_x, grad_grid): the scatter of grad_out into the neighbours, and the
    derivative along the grid coordinates (see above)."""
    N, C, H, W = x.shape
    ix, slope_x = _source_index(grid[..., 0], W, border, align_corners)
    iy, slope_y = _source_index(grid[..., 1], H, border, align_corners)
    weights, (west, east, north, south), x0, y0 = _neighbours(ix, iy)
    n = np.arange(N).reshape(N, 1, 1)
    g = grad_out.transpose(1, 0, 2, 3)  # (C, N, OH, OW)
    grad_x = np.zeros(x.shape, dtype=x.dtype)
    v = {}
    for dy, dx, weight in weights:
        ys, xs = y0 + dy, x0 + dx
        v[dy, dx], valid = _read(x, n, ys, xs)
        nn, yy, xx = np.broadcast_arrays(n, ys, xs)
        for c in range(C):
            np.add.at(grad_x[:, c], (nn[valid], yy[valid], xx[valid]), (g[c] * weight)[valid])
    d_ix = north * (v[0, 1] - v[0, 0]) + south * (v[1, 1] - v[1, 0])
    d_iy = west * (v[1, 0] - v[0, 0]) + east * (v[1, 1] - v[0, 1])
    grad_grid = np.stack(
        [(g * d_ix).sum(axis=0) * slope_x, (g * d_iy).sum(axis=0) * slope_y], axis=-1
    )
    return grad_x, grad_grid.astype(grid.dtype)
