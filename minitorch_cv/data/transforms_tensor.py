"""``ToTensor``: an image (a data set's array, a PIL image) as a Tensor, uint8 scaled
to [0, 1] float32, as torchvision's ``ToTensor``.

Layout. minitorch_cv's images are channel-first, (C, H, W), and batches (N, C, H, W):
that is what our data sets return and what every transform here takes, so an array is
kept channel-first. torchvision's ``ToTensor`` instead reads a NumPy array as (H, W, C)
and transposes it. To run torchvision-style data sets that return (H, W, C) arrays, a
3-D array whose last axis has 1, 3 or 4 entries and whose first does not (such as
(32, 32, 3)) is read as (H, W, C) and transposed; a PIL image is always (H, W, C). A
2-D array (H, W) becomes (1, H, W). Anything else is taken as channel-first.

Values: uint8 -> float32 x / 255 (torchvision's rule); other dtypes keep their values
and dtype (float64 stays float64, as ``torch.from_numpy`` would keep it).
"""
import numpy as np

from ..tensor import Tensor
from .transforms import Transform

_CHANNEL_COUNTS = (1, 3, 4)


def _is_pil_image(image):
    return type(image).__module__.startswith("PIL.") and hasattr(image, "getbands")


def _channel_first(array):
    """``array`` as (C, H, W) / (N, C, H, W) by the rules of the module docstring."""
    if array.ndim == 2:
        return array[None]
    if array.ndim == 3 and array.shape[-1] in _CHANNEL_COUNTS and array.shape[0] not in _CHANNEL_COUNTS:
        return array.transpose(2, 0, 1)
    if array.ndim in (3, 4):
        return array
    raise ValueError(
        f"ToTensor: expected an image (H, W), (C, H, W) or (H, W, C), or a batch "
        f"(N, C, H, W), got shape {tuple(array.shape)}"
    )


class ToTensor(Transform):
    """See the module docstring."""

    def __call__(self, image, generator=None):
        if _is_pil_image(image):
            array = np.asarray(image)
            array = array[:, :, None] if array.ndim == 2 else array
            array = array.transpose(2, 0, 1)
        elif isinstance(image, Tensor):
            array = image.numpy()
        elif isinstance(image, np.ndarray):
            array = _channel_first(image)
        else:
            raise TypeError(
                f"ToTensor: expected a NumPy array, a Tensor or a PIL image, got "
                f"{type(image).__name__}"
            )
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)  # PIL mode "1"
        if array.dtype == np.uint8:
            array = array.astype(np.float32) / np.float32(255)
        return Tensor(np.ascontiguousarray(array))

    def __repr__(self):
        return "ToTensor()"
