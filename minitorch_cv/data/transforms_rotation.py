"""``RandomRotation``: rotate each image by its own random angle, torchvision's geometry.

Every output pixel reads the input where the inverse rotation sends it. With pixel
centres measured from the image centre (x right, y down; x_o = j - (OW - 1) / 2,
y_o = i - (OH - 1) / 2) and the rotation centre c (the image centre unless ``center``
is given, as (x, y) in pixels), an angle of theta degrees reads

    x_s = cos(theta) (x_o - c_x) - sin(theta) (y_o - c_y) + c_x + (W - 1) / 2
    y_s = sin(theta) (x_o - c_x) + cos(theta) (y_o - c_y) + c_y + (H - 1) / 2

(in input pixel indices), which turns the picture counter-clockwise on the screen for
theta > 0, as torchvision's ``rotate``. NEAREST (the default) takes the pixel at
(round(y_s), round(x_s)) with ties to even, as ``grid_sample``; BILINEAR weighs the four
around it, zeros outside. Pixels whose source lies outside the input get ``fill``
(NEAREST), or are blended towards it by the fraction of their weights that fell
outside (BILINEAR), as torchvision does.

``expand=True`` enlarges the output to hold the whole rotated image (torchvision's
size rule: the rotated corners' extent, rounded outwards at 1e-4; a right angle is an
exact ``rot90``, as in torchvision). Each angle then gives its own size, so it rotates
one image at a time (``batched = False``).
"""
import numbers

import numpy as np

from .transforms import RandomTransform
from .transforms_resize import InterpolationMode, interpolation_mode


def _inverse_matrix(angle, center_offset):
    """torchvision's inverse affine matrix of a rotation by ``angle`` degrees about
    ``center_offset`` (from the image centre): [[a, b, tx], [c, d, ty]] per image,
    each an array (N,)."""
    theta = np.radians(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    cx, cy = center_offset
    a, b, c, d = cos, -sin, sin, cos
    tx = a * -cx + b * -cy + cx
    ty = c * -cx + d * -cy + cy
    return a, b, tx, c, d, ty


def _expanded_size(matrix, H, W):
    """torchvision's output size for ``expand=True`` (one image): the extent of the
    rotated corners, measured from the top-left corner, in float32 as torchvision
    computes it, cut to 1e-4 (so that 1e-15 of rounding error never adds a pixel) and
    rounded outwards."""
    a, b, tx, c, d, ty = (np.float32(value[0]) for value in matrix)
    half_w, half_h = np.float32(0.5 * W), np.float32(0.5 * H)
    corners_x = np.array([-half_w, -half_w, half_w, half_w], np.float32)
    corners_y = np.array([-half_h, half_h, half_h, -half_h], np.float32)
    xs = a * corners_x + b * corners_y + tx + half_w
    ys = c * corners_x + d * corners_y + ty + half_h
    inverse_tolerance, tolerance = np.float32(1e4), np.float32(1e-4)

    def extent(values):
        high = np.ceil(np.trunc(values.max() * inverse_tolerance) * tolerance)
        low = np.floor(np.trunc(values.min() * inverse_tolerance) * tolerance)
        return int(high - low)

    return extent(ys), extent(xs)


def _quarter_turns(angle):
    """k when every angle is k * 90 degrees (mod 360), else None."""
    turns = np.mod(angle, 360) / 90
    if np.all(turns == turns[0]) and turns[0] == int(turns[0]):
        return int(turns[0])
    return None


def _fill_vector(fill, channels):
    values = np.asarray(fill, dtype=np.float64).reshape(-1)
    if values.size not in (1, channels):
        raise ValueError(f"fill: expected 1 or {channels} values, got {values.size}")
    return np.broadcast_to(values, (channels,)).reshape(1, channels, 1, 1)


def rotate(images, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=0):
    """Rotate image n of (N, C, H, W) by ``angle[n]`` degrees (see the module docstring)."""
    N, C, H, W = images.shape
    angle = np.broadcast_to(np.asarray(angle, np.float64), (N,))
    quarter_turns = _quarter_turns(angle)
    if expand and center is None and quarter_turns is not None:
        # torchvision's exact path for right angles (its size rule would differ by a pixel)
        return np.ascontiguousarray(np.rot90(images, quarter_turns, axes=(2, 3)))
    offset = (0.0, 0.0) if center is None else (center[0] - W * 0.5, center[1] - H * 0.5)
    matrix = _inverse_matrix(angle, offset)
    OH, OW = _expanded_size(matrix, H, W) if expand else (H, W)
    a, b, tx, c, d, ty = (m.reshape(N, 1, 1) for m in matrix)
    y_o = (np.arange(OH) - (OH - 1) / 2).reshape(1, OH, 1)
    x_o = (np.arange(OW) - (OW - 1) / 2).reshape(1, 1, OW)
    x_s = a * x_o + b * y_o + tx + (W - 1) / 2  # (N, OH, OW)
    y_s = c * x_o + d * y_o + ty + (H - 1) / 2
    fill = _fill_vector(fill, C)
    if interpolation == InterpolationMode.NEAREST:
        return _nearest(images, x_s, y_s, fill)
    return _bilinear(images, x_s, y_s, fill)


def _gather(images, rows, cols):
    """images[n, :, rows[n], cols[n]] as (N, C, OH, OW), reading 0 outside the image."""
    N, C, H, W = images.shape
    inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    n = np.arange(N).reshape(N, 1, 1)
    values = images[n, :, np.clip(rows, 0, H - 1), np.clip(cols, 0, W - 1)]  # (N, OH, OW, C)
    values = np.moveaxis(values, -1, 1)
    return np.where(inside[:, None], values, 0), inside[:, None]


def _nearest(images, x_s, y_s, fill):
    rows, cols = np.rint(y_s).astype(np.int64), np.rint(x_s).astype(np.int64)
    values, inside = _gather(images, rows, cols)
    return np.where(inside, values, fill.astype(images.dtype))


def _bilinear(images, x_s, y_s, fill):
    top, left = np.floor(y_s).astype(np.int64), np.floor(x_s).astype(np.int64)
    dy, dx = (y_s - top)[:, None], (x_s - left)[:, None]
    compute = np.float64 if images.dtype == np.float64 else np.float32
    total = 0.0
    covered = 0.0  # the weight that fell inside the image: torchvision's sampled mask
    for row, wy in ((top, 1 - dy), (top + 1, dy)):
        for col, wx in ((left, 1 - dx), (left + 1, dx)):
            values, inside = _gather(images, row, col)
            weight = (wy * wx).astype(compute)
            total = total + weight * values.astype(compute)
            covered = covered + weight * inside
    out = total * covered + (1 - covered) * fill.astype(compute)
    if images.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(images.dtype, copy=False)


class RandomRotation(RandomTransform):
    """torchvision's ``RandomRotation(degrees, interpolation=NEAREST, expand=False,
    center=None, fill=0)``: an angle uniform in [-degrees, degrees] (or in the given
    (min, max)) per image; see the module docstring."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"degrees: expected a non-negative number, got {degrees!r}")
            degrees = (-float(degrees), float(degrees))
        elif not (isinstance(degrees, (tuple, list)) and len(degrees) == 2 and degrees[0] <= degrees[1]):
            raise ValueError(f"degrees: expected a number or a pair (min, max), got {degrees!r}")
        if center is not None and not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ValueError(f"center: expected a pair (x, y), got {center!r}")
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.interpolation = interpolation_mode(interpolation)
        self.expand = bool(expand)
        self.center = None if center is None else (float(center[0]), float(center[1]))
        self.fill = fill
        self.batched = not self.expand

    def draw(self, shape, generator):
        """Per-image angles in degrees, float64 (N,)."""
        return generator.uniform(self.degrees[0], self.degrees[1], size=shape[0])

    def apply(self, images, angles):
        if self.expand and images.shape[0] > 1:
            raise ValueError(
                "RandomRotation(expand=True) gives each image its own size: apply it to one "
                "image (C, H, W) at a time, e.g. as a data set's transform"
            )
        return rotate(images, angles, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self):
        return (f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}, center={self.center}, fill={self.fill})")
