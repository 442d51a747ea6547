"""Data augmentation on whole batches of images, vectorized with NumPy.

Every transform takes a batch ``images`` of shape (N, C, H, W) (or one image (C, H, W))
and works on all N images at once: a random transform draws N sets of parameters (one
crop offset, one coin, one colour shift per image) and applies them with array
indexing, never with a Python loop over images.

    RandomCrop(32, padding=4)        uint8 or float in, same dtype out
    RandomHorizontalFlip(p=0.5)      uint8 or float in, same dtype out
    ToFloat()                        uint8 in [0, 255] -> float32 in [0, 1] (x / 255)
    Normalize(mean, std)             -> float32 (x - mean) / std, x in [0, 1]
    PCALighting(0.1)                 -> float32 x + eigvec @ (alpha * eigval)
    Cutout(16)                       any dtype in, same dtype out

The pipeline and its order. Geometry first, on uint8 (a quarter of the bytes of float32
and exact): crop, flip. Then the float steps: ``ToFloat`` divides by 255 exactly like
PyTorch's ``ToTensor`` (images are already channel-first here, so nothing is
transposed); ``Normalize`` and ``PCALighting`` do that division themselves when they
receive uint8, so ``ToFloat`` is optional. Cutout last, after ``Normalize``, as in
DeVries & Taylor's code: a zeroed square then means "the mean colour". The CIFAR recipe:

    Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(),
             Normalize(CIFAR10_MEAN, CIFAR10_STD)])

torchvision's vocabulary, in the files beside this one and importable from here:

    ToTensor()                       image -> Tensor, uint8 -> float32 in [0, 1]  (transforms_tensor.py)
    Resize, CenterCrop,              resampling as matrix products               (transforms_resize.py)
    RandomResizedCrop
    ColorJitter                      brightness, contrast, saturation, hue       (transforms_color.py)
    RandomRotation                   rotation about the centre                   (transforms_rotation.py)
    RandomErasing                    a random rectangle overwritten              (transforms_erasing.py)
    Lambda(fn)                       any function of the images                  (here)

Batched or not. Every transform above takes a whole batch (``batched = True``): data
sets with a fast path apply a data set transform to all images of a batch at once.
``Lambda`` (whose function may expect one image) and ``RandomRotation(expand=True)``
are not batched; a ``Compose`` is batched when all its members are, and otherwise the
data set applies it image by image.

Randomness. ``transform(images, generator=g)`` draws from the NumPy generator ``g``; with
no generator it draws from minitorch_cv's CPU generator (``manual_seed`` fixes it; an
int seeds a fresh generator). ``DataLoader`` passes each batch its own generator derived
from (seed, epoch, batch), so batches are reproducible whatever thread prepares them.
Each random transform separates drawing from applying: ``draw(shape, generator)``
returns the per-image parameters, ``apply(images, params)`` uses them.
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import checks
from ..tensor import Tensor
from .seeding import numpy_generator

# AlexNet's PCA lighting noise (Krizhevsky et al. 2012) for RGB images in [0, 1]: the
# eigenvalues and eigenvectors (one per column) of the 3x3 covariance of ImageNet
# pixels, as published with fb.resnet.torch.
IMAGENET_PCA_EIGVAL = (0.2175, 0.0188, 0.0045)
IMAGENET_PCA_EIGVEC = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)


def _to_float(images):
    """uint8 [0, 255] -> float32 [0, 1]; floating input is returned as float32."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) * np.float32(1 / 255)
    if images.dtype.kind != "f":
        raise TypeError(f"images: expected uint8 or floating images, got dtype {images.dtype}")
    return images.astype(np.float32, copy=False)


class Transform:
    """Base class: handles Tensors, single images and the generator, then calls
    ``self.forward(images, generator)`` on an (N, C, H, W) NumPy array."""

    batched = True  # it takes a whole batch (N, C, H, W) (see the module docstring)

    def __call__(self, images, generator=None):
        is_tensor = isinstance(images, Tensor)
        array = images.array if is_tensor else images
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"{type(self).__name__}: expected a NumPy array or a CPU Tensor, "
                f"got {type(array).__name__}"
            )
        single = array.ndim == 3
        if single:
            array = array[None]
        if array.ndim != 4:
            raise ValueError(
                f"{type(self).__name__}: expected images of shape (N, C, H, W) or "
                f"(C, H, W), got shape {tuple(array.shape)}"
            )
        out = self.forward(array, numpy_generator(generator))
        if single:
            out = out[0]
        return Tensor(out) if is_tensor else out

    def forward(self, images, generator):
        raise TypeError(f"{type(self).__name__} must define forward(images, generator)")

    def __repr__(self):
        return f"{type(self).__name__}()"


class RandomTransform(Transform):
    """A transform whose randomness is one ``draw`` per batch followed by ``apply``."""

    def forward(self, images, generator):
        return self.apply(images, self.draw(images.shape, generator))


def apply_transform(transform, images, generator=None):
    """Call ``transform`` with the generator when it takes one (our transforms), without
    it otherwise (any callable, e.g. a lambda)."""
    if isinstance(transform, Transform):
        return transform(images, generator=generator)
    return transform(images)


class Compose(Transform):
    """Apply ``transforms`` in order, all drawing from the same generator."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    @property
    def batched(self):
        return all(getattr(t, "batched", False) for t in self.transforms)

    def __call__(self, images, generator=None):
        generator = numpy_generator(generator)
        for transform in self.transforms:
            images = apply_transform(transform, images, generator)
        return images

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Lambda(Transform):
    """torchvision's ``Lambda(lambd)``: ``lambd(images)``. Not batched: the function is
    given what the data set gives (one image), never a whole batch. Use a function
    defined at module level (not a lambda) when the loader has worker processes."""

    batched = False

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"lambd: expected a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, images, generator=None):
        return self.lambd(images)

    def __repr__(self):
        return f"Lambda({getattr(self.lambd, '__name__', self.lambd)!r})"


def _padding(padding):
    """torchvision's convention -> (top, bottom, left, right)."""
    if padding is None:
        return 0, 0, 0, 0
    if isinstance(padding, numbers.Integral):
        pads = (padding,) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:  # (left/right, top/bottom)
        pads = (padding[1], padding[1], padding[0], padding[0])
    elif isinstance(padding, (tuple, list)) and len(padding) == 4:  # (left, top, right, bottom)
        pads = (padding[1], padding[3], padding[0], padding[2])
    else:
        raise ValueError(
            f"padding: expected an int, (left/right, top/bottom) or "
            f"(left, top, right, bottom), got {padding!r}"
        )
    if any(not isinstance(p, numbers.Integral) or p < 0 for p in pads):
        raise ValueError(f"padding: expected non-negative integers, got {padding!r}")
    return tuple(int(p) for p in pads)


class RandomCrop(RandomTransform):
    """Pad every image, then cut an OH x OW window at an offset drawn per image.

    out[n, c, i, j] = padded[n, c, top[n] + i, left[n] + j], with top[n] uniform in
    [0, H + PT + PB - OH] and left[n] uniform in [0, W + PL + PR - OW] (torchvision's
    ``RandomCrop``). padding: int, (left/right, top/bottom) or (left, top, right,
    bottom). padding_mode: "constant" (``fill``), "edge", "reflect" (mirror without
    repeating the border pixel) or "symmetric" (mirror repeating it), as torchvision.

    The gather: ``sliding_window_view`` presents the padded batch as every possible
    OH x OW window, (N, C, positions_y, positions_x, OH, OW), without copying; one fancy
    index [n, :, top[n], left[n]] then copies exactly the chosen window of each image.
    """

    MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(self, size, padding=None, fill=0, padding_mode="constant"):
        self.size = checks.pair("RandomCrop", "size", size, minimum=1)
        self.padding = _padding(padding)
        if padding_mode not in self.MODES:
            raise ValueError(f"padding_mode: expected one of {self.MODES}, got {padding_mode!r}")
        if not isinstance(fill, numbers.Real):
            raise ValueError(f"fill: expected a number, got {fill!r}")
        self.fill = fill
        self.padding_mode = padding_mode

    def _padded_size(self, shape):
        top, bottom, left, right = self.padding
        padded_h, padded_w = shape[2] + top + bottom, shape[3] + left + right
        OH, OW = self.size
        if OH > padded_h or OW > padded_w:
            raise ValueError(
                f"size: crop {OH}x{OW} is larger than the padded image "
                f"{padded_h}x{padded_w}"
            )
        return padded_h, padded_w

    def draw(self, shape, generator):
        """Per-image offsets (top, left) into the padded image, each an int64 array (N,)."""
        padded_h, padded_w = self._padded_size(shape)
        top = generator.integers(0, padded_h - self.size[0] + 1, size=shape[0])
        left = generator.integers(0, padded_w - self.size[1] + 1, size=shape[0])
        return top, left

    def pad(self, images):
        top, bottom, left, right = self.padding
        if top == bottom == left == right == 0:
            return images
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return np.pad(images, widths, mode="constant", constant_values=self.fill)
        return np.pad(images, widths, mode=self.padding_mode)

    def apply(self, images, params):
        top, left = params
        self._padded_size(images.shape)
        padded = self.pad(images)
        windows = sliding_window_view(padded, self.size, axis=(2, 3))
        n = np.arange(images.shape[0])
        # Advanced indices on axes 0, 2, 3 (a slice between them) put the batch axis
        # first: the result is (N, C, OH, OW).
        return windows[n, :, top, left]

    def __repr__(self):
        return (
            f"RandomCrop(size={self.size}, padding={self.padding} (top, bottom, left, right), "
            f"padding_mode={self.padding_mode!r})"
        )


class RandomHorizontalFlip(RandomTransform):
    """Mirror each image left-right with probability ``p``, one coin per image:
    out[n] = images[n, :, :, ::-1] where coin[n] < p, else images[n]."""

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def draw(self, shape, generator):
        """A bool array (N,): True where the image is flipped."""
        return generator.random(shape[0]) < self.p

    def apply(self, images, flipped):
        out = images.copy()
        out[flipped] = images[flipped][..., ::-1]
        return out

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class ToFloat(Transform):
    """uint8 in [0, 255] -> float32 in [0, 1], dividing by 255 (PyTorch's ToTensor
    convention); floating images are returned as float32 unchanged."""

    def forward(self, images, generator):
        return _to_float(images)


def _channel_vector(values, name, channels):
    vector = np.asarray(values, dtype=np.float32).reshape(-1)
    if vector.size not in (1, channels):
        raise ValueError(
            f"{name}: expected 1 or {channels} values (one per channel), got {vector.size}"
        )
    return np.broadcast_to(vector, (channels,)).reshape(channels, 1, 1)


class Normalize(Transform):
    """out[n, c] = (x[n, c] - mean[c]) / std[c] in float32, x = images / 255 for uint8.

    As torchvision's ``Normalize`` after ``ToTensor``: mean and std are in [0, 1] units.
    """

    def __init__(self, mean, std):
        self.mean = tuple(float(m) for m in np.reshape(mean, -1))
        self.std = tuple(float(s) for s in np.reshape(std, -1))
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std: expected positive values, got {self.std}")

    def forward(self, images, generator):
        channels = images.shape[1]
        mean = _channel_vector(self.mean, "mean", channels)
        inv_std = 1 / _channel_vector(self.std, "std", channels)
        out = _to_float(images)
        if out is images:  # float input: do not write into the caller's array
            out = out.copy()
        out -= mean
        out *= inv_std
        return out

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Cutout(RandomTransform):
    """DeVries & Taylor (2017): zero a ``size`` x ``size`` square of every image.

    The centre (cy[n], cx[n]) is uniform over all pixels; the square covers rows
    [cy - size // 2, cy - size // 2 + size) and the same for columns, clipped at the
    borders, so near an edge less than size x size pixels are erased. (The paper's code
    uses [cy - size // 2, cy + size // 2), which differs only for odd sizes.) The square
    is set to ``fill`` (0; after ``Normalize`` that is the mean colour).
    """

    def __init__(self, size, fill=0):
        if not isinstance(size, numbers.Integral) or size <= 0:
            raise ValueError(f"size: expected a positive int, got {size!r}")
        self.size = int(size)
        self.fill = fill

    def draw(self, shape, generator):
        """Per-image centres (cy, cx), each an int64 array (N,)."""
        cy = generator.integers(0, shape[2], size=shape[0])
        cx = generator.integers(0, shape[3], size=shape[0])
        return cy, cx

    def apply(self, images, params):
        cy, cx = params
        first_row = (cy - self.size // 2)[:, None]
        first_col = (cx - self.size // 2)[:, None]
        rows = np.arange(images.shape[2])[None, :]
        cols = np.arange(images.shape[3])[None, :]
        in_rows = (rows >= first_row) & (rows < first_row + self.size)  # (N, H)
        in_cols = (cols >= first_col) & (cols < first_col + self.size)  # (N, W)
        erased = in_rows[:, None, :, None] & in_cols[:, None, None, :]  # (N, 1, H, W)
        return np.where(erased, images.dtype.type(self.fill), images)

    def __repr__(self):
        return f"Cutout(size={self.size})"


class PCALighting(RandomTransform):
    """AlexNet's PCA colour augmentation: add one RGB shift per image.

    alpha[n] ~ N(0, alphastd^2) (3 values per image), and every pixel of image n gets
        shift[n, c] = sum_j eigvec[c, j] * alpha[n, j] * eigval[j]
    added to channel c. Defaults: the ImageNet eigen-decomposition for [0, 1] RGB
    (``IMAGENET_PCA_EIGVAL``/``IMAGENET_PCA_EIGVEC``), so apply it before ``Normalize``
    on float images (uint8 input is divided by 255 first). Output float32.
    """

    def __init__(self, alphastd=0.1, eigval=IMAGENET_PCA_EIGVAL, eigvec=IMAGENET_PCA_EIGVEC):
        if alphastd < 0:
            raise ValueError(f"alphastd: expected a non-negative number, got {alphastd!r}")
        self.alphastd = float(alphastd)
        self.eigval = np.asarray(eigval, dtype=np.float64).reshape(-1)
        self.eigvec = np.asarray(eigvec, dtype=np.float64)
        k = self.eigval.size
        if self.eigvec.shape != (k, k):
            raise ValueError(
                f"eigvec: expected a {k}x{k} matrix (one eigenvector per column), "
                f"got shape {self.eigvec.shape}"
            )

    def draw(self, shape, generator):
        """Per-image alpha, float64 (N, 3)."""
        return generator.normal(0.0, self.alphastd, size=(shape[0], self.eigval.size))

    def shift(self, alpha):
        """The RGB shift (N, 3) for per-image ``alpha`` (N, 3)."""
        return (alpha * self.eigval) @ self.eigvec.T

    def apply(self, images, alpha):
        if images.shape[1] != self.eigval.size:
            raise ValueError(
                f"images: PCALighting expects {self.eigval.size} channels, got {images.shape[1]}"
            )
        out = _to_float(images)
        shift = self.shift(alpha).astype(np.float32)
        return out + shift[:, :, None, None]

    def __repr__(self):
        return f"PCALighting(alphastd={self.alphastd})"


# torchvision's vocabulary (see the module docstring). Imported last: those modules build
# on the base classes above.
from .transforms_color import ColorJitter  # noqa: E402
from .transforms_erasing import RandomErasing  # noqa: E402
from .transforms_resize import CenterCrop, InterpolationMode, RandomResizedCrop, Resize  # noqa: E402
from .transforms_rotation import RandomRotation  # noqa: E402
from .transforms_tensor import ToTensor  # noqa: E402
