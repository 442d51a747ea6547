"""``ColorJitter``: random brightness, contrast, saturation and hue, torchvision's
formulas, one set of factors and one order of the four adjustments per image.

With ``bound`` = 1 for float images in [0, 1] and 255 for uint8, and
gray(x) = 0.2989 R + 0.587 G + 0.114 B (ITU-R 601, torchvision's weights):

    brightness b:  clip(b * x, 0, bound)
    contrast c:    clip(c * x + (1 - c) * mean(gray(x)), 0, bound)   (one mean per image)
    saturation s:  clip(s * x + (1 - s) * gray(x), 0, bound)          (per pixel)
    hue h:         x in HSV with the hue shifted by h (in turns, |h| <= 0.5)

For uint8 images the blends are computed in float32 and truncated to uint8, and gray is
floored first, as torchvision does; hue works on x / 255 and converts back by
truncating x * (256 - 1e-3). One-channel images skip saturation and hue.

Factors: ``brightness=0.4`` means b uniform in [max(0, 0.6), 1.4] (a pair gives the range
itself); likewise contrast and saturation; ``hue=0.1`` means h uniform in [-0.1, 0.1].
The order of the four is a random permutation per image (torchvision draws one per call,
that is per image when used as a data set's transform).
"""
import numbers

import numpy as np

from .transforms import RandomTransform

_GRAY_WEIGHTS = (0.2989, 0.587, 0.114)
_BRIGHTNESS, _CONTRAST, _SATURATION, _HUE = range(4)


def _range(value, name, center=1.0, bound=(0.0, float("inf")), clip_first=True):
    """torchvision's ``_check_input``: a number v -> [center - v, center + v] (clipped at
    0 for the factors), or a (min, max) pair; None when it changes nothing."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{name}: expected a non-negative number, got {value!r}")
        low, high = center - float(value), center + float(value)
        if clip_first:
            low = max(low, 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = float(value[0]), float(value[1])
    else:
        raise ValueError(f"{name}: expected a number or a pair (min, max), got {value!r}")
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f"{name}: expected values in [{bound[0]}, {bound[1]}], got {value!r}")
    return None if low == high == center else (low, high)


def grayscale(images):
    """gray = 0.2989 R + 0.587 G + 0.114 B, (N, 1, H, W), float32 for uint8 images."""
    values = images if images.dtype.kind == "f" else images.astype(np.float32)
    r, g, b = values[:, 0:1], values[:, 1:2], values[:, 2:3]
    return _GRAY_WEIGHTS[0] * r + _GRAY_WEIGHTS[1] * g + _GRAY_WEIGHTS[2] * b


def _blend(images, other, factor, bound):
    """clip(factor * images + (1 - factor) * other, 0, bound) in the images' dtype
    (uint8: truncated, as torchvision's ``.to(uint8)``); ``factor``: float64 (N, 1, 1, 1),
    1 - factor formed in float64 before both become float32, as torchvision's."""
    compute = images.dtype if images.dtype.kind == "f" else np.dtype(np.float32)
    out = factor.astype(compute) * images.astype(compute) + (1.0 - factor).astype(compute) * other
    out = np.clip(out, 0, bound)
    return out.astype(images.dtype)


def _gray_of(images, floored):
    if images.shape[1] != 3:
        return images if images.dtype.kind == "f" else images.astype(np.float32)
    gray = grayscale(images)
    return np.floor(gray) if floored else gray


def rgb_to_hsv(rgb):
    """(N, 3, H, W) in [0, 1] -> hue (turns, [0, 1)), saturation, value, stacked alike."""
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    maxc, minc = rgb.max(axis=1), rgb.min(axis=1)
    spread = maxc - minc
    gray = spread == 0  # hue and saturation are 0 by convention
    saturation = spread / np.where(gray, 1, maxc)
    divisor = np.where(gray, 1, spread)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    # the sector of the hexagon the colour lies in: the largest component decides
    hue = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.mod(hue * (1.0 / 6.0) + 1.0, 1.0)
    return np.stack([hue, saturation, maxc], axis=1)


def hsv_to_rgb(hsv):
    """The inverse of ``rgb_to_hsv``."""
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    # p = v (1 - s), q = v (1 - s f), t = v (1 - s (1 - f)), in torchvision's order of
    # operations so that float32 rounding agrees
    p = np.clip((1.0 - s) * v, 0, 1)
    q = np.clip((1.0 - s * f) * v, 0, 1)
    t = np.clip((s * f + (1.0 - s)) * v, 0, 1)
    # (r, g, b) for sectors 0..5: (v,t,p) (q,v,p) (p,v,t) (p,q,v) (t,p,v) (v,p,q)
    choices = (
        (v, q, p, p, t, v),
        (t, v, v, q, p, p),
        (p, p, t, v, v, q),
    )
    return np.stack([np.choose(sector, channel) for channel in choices], axis=1)


def _adjust_hue(images, shift):
    """Rotate the hue of every pixel by ``shift`` turns ((N, 1, 1) per image)."""
    is_uint8 = images.dtype == np.uint8
    values = images.astype(np.float32) / 255 if is_uint8 else images.astype(np.float32)
    hsv = rgb_to_hsv(values)
    hsv[:, 0] = np.mod(hsv[:, 0] + shift, 1.0)
    rgb = hsv_to_rgb(hsv)
    if is_uint8:  # torchvision's float -> uint8 conversion: truncate x * (256 - eps)
        return (rgb * (255 + 1.0 - 1e-3)).astype(np.uint8)
    return rgb.astype(images.dtype, copy=False)


class ColorJitter(RandomTransform):
    """torchvision's ``ColorJitter(brightness=0, contrast=0, saturation=0, hue=0)``;
    see the module docstring."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _range(brightness, "brightness")
        self.contrast = _range(contrast, "contrast")
        self.saturation = _range(saturation, "saturation")
        self.hue = _range(hue, "hue", center=0.0, bound=(-0.5, 0.5), clip_first=False)

    def draw(self, shape, generator):
        """(order (N, 4) of the adjustment ids, factors (4, N); NaN where unused)."""
        N = shape[0]
        order = np.argsort(generator.random((N, 4)), axis=1)  # a permutation per image
        factors = np.full((4, N), np.nan)
        for which, bounds in enumerate((self.brightness, self.contrast, self.saturation, self.hue)):
            if bounds is not None:
                factors[which] = generator.uniform(bounds[0], bounds[1], size=N)
        return order, factors

    def apply(self, images, params):
        order, factors = params
        if images.dtype != np.uint8 and images.dtype.kind != "f":
            raise TypeError(f"ColorJitter: expected uint8 or float images, got {images.dtype}")
        if images.shape[1] not in (1, 3):
            raise ValueError(f"ColorJitter: expected 1 or 3 channels, got {images.shape[1]}")
        bound = 255 if images.dtype == np.uint8 else 1.0
        out = images
        for step in range(4):
            for which in range(4):
                chosen = (order[:, step] == which) & ~np.isnan(factors[which])
                if chosen.any():
                    out = out.copy() if out is images else out
                    out[chosen] = self._adjust(which, out[chosen], factors[which][chosen], bound)
        return out

    def _adjust(self, which, images, factor, bound):
        factor = factor.reshape(-1, 1, 1, 1)
        floored = images.dtype == np.uint8
        if which == _BRIGHTNESS:
            return _blend(images, 0.0, factor, bound)
        if which == _CONTRAST:
            mean = _gray_of(images, floored).mean(axis=(1, 2, 3), keepdims=True)
            return _blend(images, mean, factor, bound)
        if images.shape[1] == 1:  # saturation and hue leave gray images alone
            return images
        if which == _SATURATION:
            return _blend(images, _gray_of(images, floored), factor, bound)
        return _adjust_hue(images, factor.reshape(-1, 1, 1).astype(np.float32))

    def __repr__(self):
        return (f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")
