"""Arrays as pictures: display scaling, grids of tiles, filters, feature maps, PNG files.

A "display image" here is a NumPy array of floats in [0, 1], (H, W) for gray or
(H, W, 3) for colour: the layout that matplotlib's ``imshow`` and Pillow take (the
network's arrays are channel-first, (C, H, W)). Every function returns one.

    to_image(array, mode)        (C, H, W) or (H, W) -> display image
        "auto"       uint8 / 255, anything else as "minmax"
        "minmax"     (a - min) / (max - min): the full range (a constant array is black)
        "symmetric"  0.5 + a / (2 max |a|): zero is mid-gray, the sign is visible (filters,
                     projections, gradients; an all-zero array is uniformly gray)
    make_grid(images, nrow, padding, pad_value)   tiles in rows of nrow (torchvision's
        make_grid, in display layout), pad_value between them
    filter_grid(conv_weight)     the filters of a layer, one tile each
    feature_maps(model, x, layer) the activations of a layer for one image, one tile each
    save_png(path, image, scale) the file, through Pillow

PNG files: ``save_png`` uses Pillow (a dependency of the project), imported only when
called. Pillow writes exactly the pixels given (matplotlib's ``imsave`` goes through
Pillow anyway, after a colour map step we do not want).
"""
import math
import os
import uuid

import numpy as np

from ..tensor import Tensor
from .recording import as_batch, run_recorded

MODES = ("auto", "minmax", "symmetric")


def _numpy(value):
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if hasattr(value, "weight") and isinstance(getattr(value, "weight"), Tensor):  # a layer
        return value.weight.detach().numpy()
    return np.asarray(value)


def to_image(array, mode="auto"):
    """A display image of ``array``: (C, H, W) with C in {1, 3}, or (H, W)."""
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    a = _display_layout(_numpy(array))
    if mode == "auto":
        if a.dtype == np.uint8:
            return a / 255.0
        mode = "minmax"
    return _scaled(a, mode, a)


def _display_layout(a):
    """(C, H, W) -> (H, W) or (H, W, 3)."""
    if a.ndim == 3:
        if a.shape[0] not in (1, 3):
            raise ValueError(f"array: expected 1 or 3 channels (gray or RGB), got shape {a.shape}")
        return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    if a.ndim != 2:
        raise ValueError(f"array: expected (C, H, W) or (H, W), got shape {a.shape}")
    return a


def _scaled(a, mode, reference):
    """``a`` in [0, 1] by the range of ``reference`` (``a`` itself, or a larger whole)."""
    a = a.astype(np.float64)
    if reference.size == 0:
        return a
    if mode == "minmax":
        low, high = float(reference.min()), float(reference.max())
        return (a - low) / (high - low) if high > low else np.zeros_like(a)
    largest = float(np.abs(reference).max())
    return 0.5 + a / (2 * largest) if largest > 0 else np.full_like(a, 0.5)


def make_grid(images, nrow=8, padding=2, pad_value=1.0):
    """Display images of one shape, (H, W) or (H, W, 3), as one image: nrow tiles per
    row, ``padding`` pixels of ``pad_value`` around and between them."""
    images = [np.asarray(image, dtype=np.float64) for image in images]
    if not images:
        raise ValueError("images: expected at least one image")
    shape = images[0].shape
    if any(image.shape != shape for image in images) or len(shape) not in (2, 3):
        shapes = [image.shape for image in images]
        raise ValueError(f"images: expected display images (H, W) or (H, W, 3) of one shape, got {shapes}")
    if not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"nrow: expected a positive int, got {nrow!r}")
    columns = min(nrow, len(images))
    rows = math.ceil(len(images) / columns)
    H, W = shape[:2]
    grid = np.full((rows * (H + padding) + padding, columns * (W + padding) + padding) + shape[2:], pad_value)
    for i, image in enumerate(images):
        top = padding + (i // columns) * (H + padding)
        left = padding + (i % columns) * (W + padding)
        grid[top : top + H, left : left + W] = image
    return grid


def filter_grid(conv_weight, nrow=8, padding=1, scale_each=True):
    """The filters of a convolution (K, C, KH, KW) (its weight, or the Conv2d itself)
    as one grid: K colour tiles when C == 3, K gray tiles when C == 1, and otherwise one
    row of C gray tiles per filter. Shown "symmetric" (zero weight = gray), each tile on
    its own scale (scale_each) or all on the largest |weight|."""
    w = _numpy(conv_weight)
    if w.ndim != 4:
        raise ValueError(f"conv_weight: expected a (K, C, KH, KW) weight, got shape {w.shape}")
    K, C = w.shape[:2]
    if C in (1, 3):
        tiles = list(w)
    else:
        tiles = [w[k, c][None] for k in range(K) for c in range(C)]
        nrow = C
    if scale_each:
        images = [to_image(t, "symmetric") for t in tiles]
    else:
        images = [_scaled(_display_layout(t), "symmetric", w) for t in tiles]
    return make_grid(images, nrow=nrow, padding=padding, pad_value=1.0)


def feature_maps(model, x, layer, nrow=None, padding=1):
    """The activations of ``layer`` for ONE image x ((C, H, W) or (1, C, H, W)) as a
    grid: one gray tile per channel, each on its own min-max scale (a map of zeros, a
    channel the ReLU switched off, is black). nrow defaults to ceil(sqrt(channels))."""
    x, _ = as_batch(model, x)
    if x.shape[0] != 1:
        raise ValueError(f"x: expected one image, got a batch of {x.shape[0]}")
    _, activation = run_recorded(model, x, stop_at=layer)
    if not isinstance(activation, Tensor) or activation.ndim != 4:
        shape = tuple(activation.shape) if isinstance(activation, Tensor) else type(activation).__name__
        raise ValueError(f"layer: expected feature maps (1, K, OH, OW) from {layer!r}, got {shape}")
    maps = activation.numpy()[0]
    nrow = nrow or math.ceil(math.sqrt(len(maps)))
    return make_grid([to_image(m, "minmax") for m in maps], nrow=nrow, padding=padding, pad_value=1.0)


def save_png(path, image, scale=1):
    """Write a display image ((H, W) or (H, W, 3), floats in [0, 1], or uint8) to ``path``
    as a PNG, each pixel enlarged to scale x scale. Written to a temporary file in the
    same folder, then renamed: a reader never sees half a file. Needs Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            'save_png needs Pillow: pip install pillow (or pip install -e ".[image]")'
        ) from None
    a = np.asarray(image)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise ValueError(f"image: expected (H, W) or (H, W, 3), got shape {a.shape}")
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale: expected a positive int, got {scale!r}")
    if a.dtype != np.uint8:
        a = np.round(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)
    a = a.repeat(scale, axis=0).repeat(scale, axis=1)
    path = os.fspath(path)
    # A new file beside the target ("x" mode: created with the permissions a plain open()
    # gives, never an existing file), renamed over it once complete.
    temporary = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        with open(temporary, "xb") as file:
            Image.fromarray(a).save(file, format="PNG")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path
