"""Resizing transforms in torchvision's vocabulary: ``Resize``, ``CenterCrop``,
``RandomResizedCrop``, on batches (N, C, H, W) or single images (C, H, W).

Resampling as matrix products. Bilinear resizing of one axis from ``in`` to ``out``
pixels is linear, so it is a matrix A (out x in): row o holds the weights of output
pixel o, and a whole batch is resized by

    out[n, c] = A_H @ image[n, c] @ A_W^T          (two batched matmuls, no loops)

Row o is centred at source coordinate s = (o + 0.5) * in / out (pixel centres, as
``align_corners=False``) and weighs source pixel j by the triangle
w(j) = max(0, 1 - |j + 0.5 - s| / support), normalised to sum 1 over the pixels inside
the image. With support = 1 this is exactly bilinear interpolation with the border
pixel repeated; with ``antialias=True`` and a shrinking axis (in > out), support =
in / out, so each output pixel averages every source pixel it covers: PIL's and
torchvision's antialiased bilinear filter (without it, shrinking by 4 would sample 2
of every 4 pixels and alias). A crop is the same matrix restricted to the crop's rows or
columns: source pixels outside [start, start + length) get weight 0, which is how
``RandomResizedCrop`` resizes a different crop of every image in one product.

Nearest: out[o] = image[start + min(floor(o * length / out), length - 1)] (torchvision's
NEAREST, PyTorch's ``interpolate(mode="nearest")``), a gather that keeps the dtype.

Dtypes: floating images are resampled in float32 (float64 stays float64); uint8 images
are resampled in float32, rounded to the nearest integer (ties to even) and clipped to
[0, 255]. torchvision's uint8 antialias kernel works in fixed point, so uint8 results
may differ from it by 1.
"""
import enum
import math

import numpy as np

from .. import checks
from .transforms import RandomTransform, Transform


class InterpolationMode(enum.Enum):
    """torchvision's names; strings ("bilinear", "nearest") are accepted too."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


_SUPPORTED_MODES = (InterpolationMode.NEAREST, InterpolationMode.BILINEAR)


def interpolation_mode(value):
    try:
        mode = InterpolationMode(value.value if isinstance(value, InterpolationMode) else value)
    except ValueError:
        mode = None
    if mode not in _SUPPORTED_MODES:
        raise ValueError(
            f"interpolation: expected InterpolationMode.BILINEAR or NEAREST (or 'bilinear', "
            f"'nearest'), got {value!r}"
        )
    return mode


def _bilinear_weights(in_size, out_size, start, length, antialias):
    """Per-image resampling matrices (N, out_size, in_size) for crops [start, start +
    length) of an axis of ``in_size`` pixels (``start``/``length``: int arrays (N,))."""
    start = np.asarray(start, np.float64).reshape(-1, 1, 1)
    length = np.asarray(length, np.float64).reshape(-1, 1, 1)
    scale = length / out_size
    support = np.maximum(scale, 1.0) if antialias else np.ones_like(scale)
    centre = start + (np.arange(out_size).reshape(1, -1, 1) + 0.5) * scale
    source = np.arange(in_size).reshape(1, 1, -1) + 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(source - centre) / support)
    inside = (source > start) & (source < start + length)
    weights = np.where(inside, weights, 0.0)
    return weights / weights.sum(axis=2, keepdims=True)


def _nearest_indices(out_size, start, length):
    """Per-image source indices (N, out_size) of NEAREST for crops [start, start + length)."""
    start = np.asarray(start, np.int64).reshape(-1, 1)
    length = np.asarray(length, np.int64).reshape(-1, 1)
    o = np.arange(out_size, dtype=np.float32).reshape(1, -1)
    # floor(o * scale) in float32 with scale = float32(length) / out, as PyTorch computes
    # it: where o * length / out is a whole number the float32 product may fall just
    # below it (26 -> 22 pixels: 11 * 26 / 22 = 13, but PyTorch reads pixel 12), and so
    # must ours.
    scale = length.astype(np.float32) / np.float32(out_size)
    offset = np.floor(o * scale).astype(np.int64)
    return start + np.minimum(offset, length - 1)


def _from_float(values, dtype):
    if dtype == np.uint8:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return values.astype(dtype, copy=False)


def resize_crops(images, size, boxes, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Resize crop n of every image n to ``size`` = (OH, OW).

    images: (N, C, H, W); boxes: (top, left, height, width), each an int array (N,) (or
    an int for all images). Returns (N, C, OH, OW) in the images' dtype.
    """
    N, C, H, W = images.shape
    OH, OW = size
    top, left, height, width = (np.broadcast_to(np.asarray(b, np.int64), (N,)) for b in boxes)
    if interpolation == InterpolationMode.NEAREST:
        rows = _nearest_indices(OH, top, height)  # (N, OH)
        cols = _nearest_indices(OW, left, width)  # (N, OW)
        n = np.arange(N).reshape(N, 1, 1)
        # advanced indices on axes 0, 2, 3 around a slice: the result is (N, OH, OW, C)
        return np.moveaxis(images[n, :, rows[:, :, None], cols[:, None, :]], -1, 1)
    compute = np.float64 if images.dtype == np.float64 else np.float32
    rows = _bilinear_weights(H, OH, top, height, antialias).astype(compute)  # (N, OH, H)
    cols = _bilinear_weights(W, OW, left, width, antialias).astype(compute)  # (N, OW, W)
    values = images.astype(compute, copy=False)
    out = np.matmul(rows[:, None], values)  # (N, C, OH, W)
    out = np.matmul(out, np.swapaxes(cols, 1, 2)[:, None])  # (N, C, OH, OW)
    return _from_float(out, images.dtype)


def resized_size(H, W, size, max_size=None):
    """torchvision's output size: ``size`` (h, w) as given, or an int (or [int]) that
    the shorter side becomes, the longer keeping the aspect ratio (truncated), then
    capped at ``max_size``."""
    if isinstance(size, (tuple, list)) and len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size: only allowed when size is a single int")
        return int(size[0]), int(size[1])
    if isinstance(size, (tuple, list)) and len(size) == 1:
        size = size[0]
    short, long = (W, H) if W <= H else (H, W)
    new_short, new_long = int(size), int(size * long / short)
    if max_size is not None:
        if max_size <= new_short:
            raise ValueError(
                f"max_size: expected a value larger than the requested size {size}, got {max_size}"
            )
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if W <= H else (new_short, new_long)


def _check_resize_size(size):
    """Resize's ``size``: an int or [int] (the shorter side) or a pair (height, width)."""
    sizes = list(size) if isinstance(size, (tuple, list)) else [size]
    if len(sizes) in (1, 2):
        for value in sizes:
            checks.integer("Resize", "size", value, minimum=1)
        return
    raise checks.ArgumentTypeError(
        f"Resize: size must be an int or a pair (height, width), got {size!r}"
    )


class Resize(Transform):
    """torchvision's ``Resize(size, interpolation=BILINEAR, max_size=None,
    antialias=True)``: ``size`` (h, w), or an int that the shorter side becomes."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        _check_resize_size(size)
        self.size = size
        self.interpolation = interpolation_mode(interpolation)
        self.max_size = max_size
        self.antialias = bool(antialias)

    def forward(self, images, generator):
        N, C, H, W = images.shape
        size = resized_size(H, W, self.size, self.max_size)
        return resize_crops(images, size, (0, 0, H, W), self.interpolation, self.antialias)

    def __repr__(self):
        return (f"Resize(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(Transform):
    """torchvision's ``CenterCrop(size)``: the central OH x OW window, at
    top = round((H - OH) / 2), left = round((W - OW) / 2) (Python's round, ties to even,
    as torchvision); an image smaller than the crop is first padded with zeros on both
    sides (the odd pixel at the bottom/right)."""

    def __init__(self, size):
        self.size = checks.pair("CenterCrop", "size", size, minimum=1)

    def forward(self, images, generator):
        OH, OW = self.size
        H, W = images.shape[2:]
        pad_h, pad_w = max(OH - H, 0), max(OW - W, 0)
        if pad_h or pad_w:
            widths = ((0, 0), (0, 0), (pad_h // 2, (pad_h + 1) // 2), (pad_w // 2, (pad_w + 1) // 2))
            images = np.pad(images, widths)
            H, W = images.shape[2:]
        top, left = int(round((H - OH) / 2.0)), int(round((W - OW) / 2.0))
        return images[:, :, top : top + OH, left : left + OW].copy()

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


def rectangle_tries(generator, N, area, scale, ratio, tries):
    """torchvision's random rectangles (RandomResizedCrop, RandomErasing), ``tries`` per
    image: a = area * U(scale), r = exp(U(log ratio)), and the two sides
    (round(sqrt(a r)), round(sqrt(a / r))), each an int64 array (N, tries). Which side
    is the width differs between the two transforms, as in torchvision."""
    drawn_area = area * generator.uniform(scale[0], scale[1], size=(N, tries))
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    aspect = np.exp(generator.uniform(log_ratio[0], log_ratio[1], size=(N, tries)))
    first = np.rint(np.sqrt(drawn_area * aspect)).astype(np.int64)
    second = np.rint(np.sqrt(drawn_area / aspect)).astype(np.int64)
    return first, second


class RandomResizedCrop(RandomTransform):
    """torchvision's ``RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3/4, 4/3),
    interpolation=BILINEAR, antialias=True)``: a crop of random area and aspect ratio,
    resized to ``size``.

    Per image, up to 10 tries: area = H * W * U(scale), aspect = exp(U(log ratio)),
    w = round(sqrt(area * aspect)), h = round(sqrt(area / aspect)); the first (h, w)
    that fits gets a uniform position. If none fits, the central crop with the aspect
    ratio clamped to ``ratio``. All tries of all images are drawn at once.
    """

    TRIES = 10

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.size = checks.pair("RandomResizedCrop", "size", size, minimum=1)
        for name, pair in (("scale", scale), ("ratio", ratio)):
            if len(pair) != 2 or not 0 < pair[0] <= pair[1]:
                raise ValueError(f"{name}: expected (min, max) with 0 < min <= max, got {pair!r}")
        self.scale = tuple(float(s) for s in scale)
        self.ratio = tuple(float(r) for r in ratio)
        self.interpolation = interpolation_mode(interpolation)
        self.antialias = bool(antialias)

    def draw(self, shape, generator):
        """Per-image crops (top, left, height, width), each an int64 array (N,)."""
        N, _, H, W = shape
        w, h = rectangle_tries(generator, N, H * W, self.scale, self.ratio, self.TRIES)
        fits = (w > 0) & (w <= W) & (h > 0) & (h <= H)
        first = np.argmax(fits, axis=1)
        found = fits[np.arange(N), first]
        h, w = h[np.arange(N), first], w[np.arange(N), first]
        fallback_h, fallback_w = self._central_size(H, W)
        h, w = np.where(found, h, fallback_h), np.where(found, w, fallback_w)
        top = np.where(found, (generator.random(N) * (H - h + 1)).astype(np.int64), (H - h) // 2)
        left = np.where(found, (generator.random(N) * (W - w + 1)).astype(np.int64), (W - w) // 2)
        return top, left, h, w

    def _central_size(self, H, W):
        in_ratio = W / H
        if in_ratio < self.ratio[0]:
            return int(round(W / self.ratio[0])), W
        if in_ratio > self.ratio[1]:
            return H, int(round(H * self.ratio[1]))
        return H, W

    def apply(self, images, boxes):
        return resize_crops(images, self.size, boxes, self.interpolation, self.antialias)

    def __repr__(self):
        return (f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")
