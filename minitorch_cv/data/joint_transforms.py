"""Joint transforms: one random geometry applied to an image and its label maps.

    from minitorch_cv.data import joint_transforms as JT, transforms as T

    augment = JT.Compose([JT.RandomScale((0.5, 2.0)), JT.RandomCrop(256, mask_fill=11),
                          JT.RandomHorizontalFlip(), T.Normalize(mean, std)])
    image, mask = augment(image, mask, generator=g)

In the style of torchvision.transforms.v2: a sample is an image (C, H, W), uint8 or
float, followed by any number of per-pixel maps (H, W), and each input is transformed
according to its kind:

    image        resampled bilinearly (uint8 in, uint8 out, rounded), padded with ``fill``
    integer map  (a label map) resampled by nearest neighbour, so a label is never
                 averaged with its neighbour's; padded with ``mask_fill``, the ignore id,
                 so the loss and the metrics skip the invented pixels
    float map    (a weight map) nearest neighbour, padded with 0 (no weight)

A transform that is not joint (the batch transforms of ``transforms.py``: Normalize,
ToFloat, ColorJitter, PCALighting...) changes the image only and passes the maps
through, as v2 does with transforms that do not concern masks. Those of them that move
pixels (RandomCrop, RandomHorizontalFlip, Resize, CenterCrop, RandomResizedCrop,
RandomRotation) would leave the labels behind, so a ``Compose`` refuses them and names
the joint transform to use. A plain callable in a ``Compose`` receives the whole sample
and returns it.

Geometry. Pixel (i, j) is the unit square centred at (i, j). A transform that resamples
says, for every output pixel, where in the input it reads: source rows and columns
(real numbers). Bilinear sampling mixes the four pixels around that point; nearest
takes the pixel whose square contains it, floor(src + 0.5). Both use the same centres,
so an image and its label map stay aligned to the pixel. (PyTorch's legacy "nearest",
torchvision's default for masks, reads floor(o * H / OH) instead: for a resize that
is up to half an input pixel away from where bilinear reads; our rule is its
"nearest-exact".) Crops and flips copy pixels and resample nothing.

Randomness: every transform draws from the NumPy generator it is given (the loader
passes each batch its own, see ``seeding.py``), or from minitorch_cv's CPU generator.
"""
import numbers

import numpy as np

from . import transforms as image_transforms
from .seeding import numpy_generator
from .transforms import Transform as ImageTransform

BORDERS = ("edge", "reflect", "constant")
# Image transforms that move pixels: in a joint pipeline they would misalign the labels.
GEOMETRIC_IMAGE_TRANSFORMS = (
    image_transforms.RandomCrop, image_transforms.RandomHorizontalFlip,
    image_transforms.Resize, image_transforms.CenterCrop, image_transforms.RandomResizedCrop,
    image_transforms.RandomRotation,
)


# ------------------------------------------------------------------------ samples
def _check_sample(image, maps):
    if not isinstance(image, np.ndarray) or image.ndim != 3:
        raise ValueError(
            f"image: expected a NumPy array (C, H, W), got "
            f"{getattr(image, 'shape', type(image).__name__)}"
        )
    for position, array in enumerate(maps, 1):
        if not isinstance(array, np.ndarray) or array.shape != image.shape[1:]:
            raise ValueError(
                f"input {position}: expected a map of the image's size {image.shape[1:]} "
                f"(H, W), got {getattr(array, 'shape', type(array).__name__)}"
            )


def apply_joint(transform, sample, generator=None):
    """``transform`` applied to the tuple ``sample`` (image, *maps): a joint transform
    or a plain callable gets the whole sample, an image transform the image only."""
    if isinstance(transform, JointTransform):
        return transform(*sample, generator=generator)
    if isinstance(transform, ImageTransform):
        return (transform(sample[0], generator=generator),) + tuple(sample[1:])
    return tuple(transform(*sample))


class JointTransform:
    """Base class: checks the sample, resolves the generator, then calls
    ``self.forward(image, maps, generator)``, which returns the tuple (image, *maps)."""

    def __call__(self, image, *maps, generator=None):
        _check_sample(image, maps)
        return tuple(self.forward(image, maps, numpy_generator(generator)))

    def forward(self, image, maps, generator):
        raise TypeError(f"{type(self).__name__} must define forward(image, maps, generator)")

    def __repr__(self):
        return f"{type(self).__name__}()"


class Compose(JointTransform):
    """Apply ``transforms`` in order, all drawing from the same generator."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for transform in self.transforms:
            if not callable(transform):
                raise TypeError(f"transforms: expected callables, got {type(transform).__name__}")
            if isinstance(transform, GEOMETRIC_IMAGE_TRANSFORMS):
                name = type(transform).__name__
                raise TypeError(
                    f"transforms: {name} of data.transforms moves the image's pixels but not "
                    f"the labels'; use a joint transform (joint_transforms: RandomCrop, "
                    f"RandomHorizontalFlip, RandomVerticalFlip, Resize, CenterCrop, RandomScale)"
                )

    def forward(self, image, maps, generator):
        sample = (image,) + tuple(maps)
        for transform in self.transforms:
            sample = apply_joint(transform, sample, generator)
        return sample

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


# ---------------------------------------------------------------------- sampling
def _border_index(index, size, border):
    """Integer indices mapped into [0, size): clamped ("edge", "constant"; constant
    marks them invalid separately) or mirrored without repeating the edge pixel
    ("reflect": -1 -> 1, size -> size - 2, the U-Net paper's mirroring)."""
    if border == "reflect" and size > 1:
        period = 2 * (size - 1)
        index = np.abs(index) % period
        return np.where(index >= size, period - index, index)
    return np.clip(index, 0, size - 1)


def _inside(index, size):
    return (index >= 0) & (index < size)


def _bilinear(image, rows, cols, border, fill):
    """out[c, i, j] = image sampled at (rows[i, j], cols[i, j]) (broadcast (OH, OW)),
    the four pixels around each point mixed with weights (1 - dy)(1 - dx), ... ."""
    y0 = np.floor(rows).astype(np.int64)
    x0 = np.floor(cols).astype(np.int64)
    dy = (rows - y0).astype(np.float32)
    dx = (cols - x0).astype(np.float32)
    H, W = image.shape[1:]
    values = image.astype(np.float32, copy=False)
    out = 0
    for y, weight_y in ((y0, 1 - dy), (y0 + 1, dy)):
        for x, weight_x in ((x0, 1 - dx), (x0 + 1, dx)):
            picked = values[:, _border_index(y, H, border), _border_index(x, W, border)]
            if border == "constant":
                picked = np.where(_inside(y, H) & _inside(x, W), picked, np.float32(fill))
            out = out + picked * (weight_y * weight_x)
    if image.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(np.float32)


def _nearest(array, rows, cols, border, fill):
    """out[i, j] = array at the pixel containing (rows[i, j], cols[i, j])."""
    y = np.floor(rows + 0.5).astype(np.int64)
    x = np.floor(cols + 0.5).astype(np.int64)
    H, W = array.shape
    out = array[_border_index(y, H, border), _border_index(x, W, border)]
    if border == "constant":
        out = np.where(_inside(y, H) & _inside(x, W), out, array.dtype.type(fill))
    return out


def _map_fill(array, mask_fill):
    return mask_fill if array.dtype.kind in "iub" else 0


def warp(image, maps, rows, cols, border="edge", fill=0, mask_fill=255):
    """Resample a sample at source coordinates ``rows`` and ``cols`` (arrays that
    broadcast to the output's (OH, OW)): bilinear for the image, nearest for the maps.
    border: how points outside the input read it: "edge" (the nearest edge pixel),
    "reflect" (mirrored) or "constant" (``fill`` for the image, ``mask_fill`` for
    integer maps, 0 for float maps)."""
    rows, cols = np.broadcast_arrays(np.asarray(rows, np.float64), np.asarray(cols, np.float64))
    out = [_bilinear(image, rows, cols, border, fill)]
    out += [_nearest(array, rows, cols, border, _map_fill(array, mask_fill)) for array in maps]
    return tuple(out)


def _resize_sources(size, out_size):
    """Source coordinates of a resize from ``size`` to ``out_size`` pixels: the centre
    of output pixel o is (o + 0.5) * size / out_size - 0.5 in input pixels (PyTorch's
    bilinear rule with align_corners=False)."""
    return (np.arange(out_size) + 0.5) * (size / out_size) - 0.5


def resize(image, maps, out_size):
    """The sample resized to ``out_size`` (OH, OW), edges clamped."""
    (H, W), (OH, OW) = image.shape[1:], out_size
    rows = _resize_sources(H, OH)[:, None]
    cols = _resize_sources(W, OW)[None, :]
    return warp(image, maps, rows, cols, border="edge")


# -------------------------------------------------------------------- transforms
def _size_pair(value, name):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0:
        return int(value), int(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
                for v in value)
    ):
        return int(value[0]), int(value[1])
    raise ValueError(f"{name}: expected a positive int or a pair (height, width), got {value!r}")


class Resize(JointTransform):
    """Resize to ``size``: a pair (OH, OW), or an int that becomes the shorter side (the
    other keeps the aspect ratio, rounded), as torchvision's ``Resize``. The image is
    resampled bilinearly without antialiasing (``F.interpolate``'s default), the maps by
    nearest neighbour."""

    def __init__(self, size):
        if isinstance(size, numbers.Integral) and not isinstance(size, bool) and size > 0:
            self.size = int(size)
        else:
            self.size = _size_pair(size, "size")

    def output_size(self, H, W):
        if isinstance(self.size, tuple):
            return self.size
        scale = self.size / min(H, W)
        return max(1, round(H * scale)), max(1, round(W * scale))

    def forward(self, image, maps, generator):
        return resize(image, maps, self.output_size(*image.shape[1:]))

    def __repr__(self):
        return f"Resize(size={self.size})"


class RandomScale(JointTransform):
    """Resize by a factor s drawn uniformly from ``scale`` = (low, high): to
    (round(s H), round(s W)) (DeepLab's "random scale" augmentation; torchvision's
    ``RandomResize`` draws the shorter side instead)."""

    def __init__(self, scale=(0.5, 2.0)):
        valid = isinstance(scale, (tuple, list)) and len(scale) == 2
        if not valid or not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale: expected (low, high) with 0 < low <= high, got {scale!r}")
        self.scale = (float(scale[0]), float(scale[1]))

    def forward(self, image, maps, generator):
        factor = generator.uniform(*self.scale)
        H, W = image.shape[1:]
        return resize(image, maps, (max(1, round(H * factor)), max(1, round(W * factor))))

    def __repr__(self):
        return f"RandomScale(scale={self.scale})"


class RandomCrop(JointTransform):
    """Cut an (OH, OW) window at a random offset (top uniform in [0, H - OH], left in
    [0, W - OW]). A sample smaller than the window is first padded at the bottom and
    right (torchvision's segmentation references): the image with ``fill``, label maps
    with ``mask_fill`` (give the data set's ignore id), float maps with 0; with
    ``pad_if_needed=False`` it is an error instead."""

    def __init__(self, size, pad_if_needed=True, fill=0, mask_fill=255):
        self.size = _size_pair(size, "size")
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = fill
        self.mask_fill = mask_fill

    def forward(self, image, maps, generator):
        (H, W), (OH, OW) = image.shape[1:], self.size
        if OH > H or OW > W:
            if not self.pad_if_needed:
                raise ValueError(f"size: crop {OH}x{OW} is larger than the image {H}x{W} "
                                 "(pass pad_if_needed=True to pad it)")
            bottom, right = max(OH - H, 0), max(OW - W, 0)
            image = np.pad(image, ((0, 0), (0, bottom), (0, right)), constant_values=self.fill)
            maps = [np.pad(m, ((0, bottom), (0, right)),
                           constant_values=_map_fill(m, self.mask_fill)) for m in maps]
            H, W = image.shape[1:]
        top = int(generator.integers(0, H - OH + 1))
        left = int(generator.integers(0, W - OW + 1))
        window = (slice(top, top + OH), slice(left, left + OW))
        return (image[(slice(None),) + window],) + tuple(m[window] for m in maps)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, mask_fill={self.mask_fill})"


class CenterCrop(JointTransform):
    """Cut the central (OH, OW) window (top = (H - OH) // 2, left likewise)."""

    def __init__(self, size):
        self.size = _size_pair(size, "size")

    def forward(self, image, maps, generator):
        (H, W), (OH, OW) = image.shape[1:], self.size
        if OH > H or OW > W:
            raise ValueError(f"size: crop {OH}x{OW} is larger than the image {H}x{W}")
        top, left = (H - OH) // 2, (W - OW) // 2
        window = (slice(top, top + OH), slice(left, left + OW))
        return (image[(slice(None),) + window],) + tuple(m[window] for m in maps)

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class _RandomFlip(JointTransform):
    """Mirror the sample along ``axis`` (of a map: 0 rows, 1 columns) with probability
    ``p``."""

    axis = None

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, image, maps, generator):
        if generator.random() >= self.p:
            return (image,) + tuple(maps)
        return (np.flip(image, self.axis + 1).copy(),) + tuple(
            np.flip(m, self.axis).copy() for m in maps)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror the sample left-right with probability ``p``."""

    axis = 1


class RandomVerticalFlip(_RandomFlip):
    """Mirror the sample top-bottom with probability ``p`` (for images without an up,
    such as the EM slices)."""

    axis = 0


def cubic_interpolation_matrix(size, points, a=-0.5):
    """M (size, points): row o holds the cubic-convolution weights (Keys 1981, a = -0.5)
    with which output o, at position o (points - 1) / (size - 1) on a grid of ``points``
    values (the corners aligned), mixes the four nearest grid values (indices clamped
    at the ends). ``M @ grid`` interpolates a column of grid values."""
    position = np.arange(size) * ((points - 1) / max(size - 1, 1))
    base = np.floor(position).astype(np.int64)
    t = position - base
    matrix = np.zeros((size, points))
    for offset in (-1, 0, 1, 2):
        distance = np.abs(t - offset)
        weight = np.where(
            distance <= 1,
            (a + 2) * distance**3 - (a + 3) * distance**2 + 1,
            a * distance**3 - 5 * a * distance**2 + 8 * a * distance - 4 * a,
        )
        weight = np.where(distance < 2, weight, 0.0)
        np.add.at(matrix, (np.arange(size), np.clip(base + offset, 0, points - 1)), weight)
    return matrix


class ElasticDeformation(JointTransform):
    """The U-Net paper's elastic deformation (Ronneberger et al. 2015, section 3.1):
    "random displacement vectors on a coarse 3 by 3 grid ... sampled from a Gaussian
    distribution with 10 pixels standard deviation. Per-pixel displacements are then
    computed using bicubic interpolation."

    Each of the ``grid`` x ``grid`` control points (spread evenly from corner to corner)
    draws a displacement (dy, dx) ~ N(0, sigma^2) pixels; cubic interpolation
    (``cubic_interpolation_matrix``) gives every pixel its displacement, and output
    pixel (i, j) reads the input at (i + dy(i, j), j + dx(i, j)): bilinearly for the
    image, nearest for the maps. Points outside the input are mirrored (``border``
    "reflect", as the paper extrapolates by mirroring), or "edge" / "constant" with
    ``fill`` and ``mask_fill``. Applied with probability ``p``. (torchvision's
    ``ElasticTransform`` smooths a per-pixel random field with a Gaussian instead.)
    """

    def __init__(self, grid=3, sigma=10.0, p=1.0, border="reflect", fill=0, mask_fill=255):
        if not isinstance(grid, numbers.Integral) or grid < 2:
            raise ValueError(f"grid: expected an int >= 2 (control points per side), got {grid!r}")
        if not sigma >= 0:
            raise ValueError(f"sigma: expected a non-negative number of pixels, got {sigma!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        if border not in BORDERS:
            raise ValueError(f"border: expected one of {BORDERS}, got {border!r}")
        self.grid, self.sigma, self.p = int(grid), float(sigma), float(p)
        self.border, self.fill, self.mask_fill = border, fill, mask_fill

    def displacement(self, H, W, generator):
        """(dy, dx), each (H, W): the per-pixel displacement of one random draw."""
        control = generator.normal(0.0, self.sigma, size=(2, self.grid, self.grid))
        rows = cubic_interpolation_matrix(H, self.grid)
        cols = cubic_interpolation_matrix(W, self.grid)
        return rows @ control[0] @ cols.T, rows @ control[1] @ cols.T

    def forward(self, image, maps, generator):
        if generator.random() >= self.p:
            return (image,) + tuple(maps)
        H, W = image.shape[1:]
        dy, dx = self.displacement(H, W, generator)
        rows = np.arange(H)[:, None] + dy
        cols = np.arange(W)[None, :] + dx
        return warp(image, maps, rows, cols, self.border, self.fill, self.mask_fill)

    def __repr__(self):
        return f"ElasticDeformation(grid={self.grid}, sigma={self.sigma}, p={self.p})"
