"""``RandomErasing`` (Zhong et al., 2017): with probability p, overwrite a random
rectangle of each image, torchvision's rule for drawing it.

Per image, up to 10 tries: area = H * W * U(scale), aspect = exp(U(log ratio)),
h = round(sqrt(area * aspect)), w = round(sqrt(area / aspect)); the first try with
h < H and w < W is placed uniformly, rows [top, top + h) and columns [left, left + w).
If no try fits, the image is left as it is (as torchvision). All tries of all images
are drawn at once.

``value``: 0 (default), one number per channel, or "random" (standard normal noise,
float images only). Used after ``ToTensor``/``Normalize`` as in torchvision, but works
on uint8 images too (with numeric values). The result is always a new array;
``inplace`` is accepted for torchvision's signature.
"""
import numbers

import numpy as np

from .transforms import RandomTransform
from .transforms_resize import rectangle_tries


class RandomErasing(RandomTransform):
    TRIES = 10

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not 0 <= p <= 1:
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        for name, pair in (("scale", scale), ("ratio", ratio)):
            if len(pair) != 2 or not 0 <= pair[0] <= pair[1]:
                raise ValueError(f"{name}: expected (min, max) with 0 <= min <= max, got {pair!r}")
        if ratio[0] <= 0:
            raise ValueError(f"ratio: expected positive values, got {ratio!r}")
        if not (value == "random" or isinstance(value, numbers.Number)
                or (isinstance(value, (tuple, list)) and all(isinstance(v, numbers.Number) for v in value))):
            raise ValueError(f"value: expected a number, a sequence of numbers or 'random', got {value!r}")
        self.p = float(p)
        self.scale = tuple(float(s) for s in scale)
        self.ratio = tuple(float(r) for r in ratio)
        self.value = value
        self.inplace = bool(inplace)

    def draw(self, shape, generator):
        """Per image (top, left, h, w), int64 arrays (N,); h = w = 0: nothing erased."""
        N, _, H, W = shape
        h, w = rectangle_tries(generator, N, H * W, self.scale, self.ratio, self.TRIES)
        fits = (h < H) & (w < W)
        first = np.argmax(fits, axis=1)
        rows = np.arange(N)
        erase = fits[rows, first] & (generator.random(N) < self.p)
        h, w = np.where(erase, h[rows, first], 0), np.where(erase, w[rows, first], 0)
        top = (generator.random(N) * (H - h + 1)).astype(np.int64)
        left = (generator.random(N) * (W - w + 1)).astype(np.int64)
        noise_seed = generator.integers(0, 2**63) if self.value == "random" else None
        return top, left, h, w, noise_seed

    def apply(self, images, params):
        top, left, h, w, noise_seed = params
        N, C, H, W = images.shape
        rows = np.arange(H).reshape(1, H)
        cols = np.arange(W).reshape(1, W)
        in_rows = (rows >= top[:, None]) & (rows < (top + h)[:, None])  # (N, H)
        in_cols = (cols >= left[:, None]) & (cols < (left + w)[:, None])  # (N, W)
        erased = in_rows[:, None, :, None] & in_cols[:, None, None, :]  # (N, 1, H, W)
        if self.value == "random":
            if images.dtype.kind != "f":
                raise TypeError(f"RandomErasing(value='random'): expected float images, got {images.dtype}")
            fill = np.random.default_rng(noise_seed).standard_normal(images.shape).astype(images.dtype)
        else:
            values = np.asarray(self.value, dtype=np.float64).reshape(-1)
            if values.size not in (1, C):
                raise ValueError(f"value: expected 1 or {C} values (one per channel), got {values.size}")
            fill = np.broadcast_to(values, (C,)).reshape(1, C, 1, 1).astype(images.dtype)
        return np.where(erased, fill, images)

    def __repr__(self):
        return (f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value!r})")
