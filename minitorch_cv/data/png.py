"""Decoding PNG files into NumPy arrays, bounded, with Pillow.

    decode_png(payload, source, modes=("RGB",), size=(360, 480))  -> uint8 (360, 480, 3)

PNG is how the segmentation data sets ship their images and label maps (CamVid in the
SegNet layout, the ISBI 2012 slices). Decoding one means inflating zlib streams and
undoing per-row filters: a solved problem that is no part of what this project teaches,
so it is left to Pillow, the library torchvision reads images with (see the README's
note on dependencies).

What the decoder is allowed to do is bounded before any pixel is inflated: only the PNG
decoder is tried (``formats=["PNG"]``: a file that claims to be something else is
refused, not handed to another parser), the header's width and height are checked
against ``size`` (or against ``max_pixels`` when any size is accepted), and the mode
(RGB, gray "L", palette "P") against ``modes``. Inflating then stops at the bytes the
header announced, so a small file cannot expand beyond H x W x channels bytes. Pillow's
PNG decoder runs no code from the file. Every failure (truncated, corrupt, unexpected
size or mode) is a ``DatasetCorruptError`` naming ``source``.
"""
import io

import numpy as np

from .errors import DatasetCorruptError

# 64 megapixels: far above any image these data sets hold (CamVid 0.17, ISBI 0.26), far
# below what would exhaust memory.
MAX_PIXELS = 64 * 2**20


def _pillow():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency; a broken install
        raise ImportError(
            "reading PNG files needs Pillow: pip install pillow (it is a dependency of "
            "minitorch_cv; reinstall with pip install -e .)"
        ) from None
    return Image


def decode_png(payload, source, modes=("RGB",), size=None, max_pixels=MAX_PIXELS):
    """uint8 array (H, W) for modes "L" and "P" (a palette image gives its indices), or
    (H, W, 3) for "RGB", from the bytes of a PNG file.

    modes: the accepted modes; size: the required (H, W), or None for any size up to
    ``max_pixels``; source: a name for error messages (the file or archive member).
    """
    Image = _pillow()
    try:
        with Image.open(io.BytesIO(payload), formats=["PNG"]) as image:
            width, height = image.size
            if size is not None and (height, width) != tuple(size):
                raise DatasetCorruptError(
                    f"{source}: expected a {size[0]}x{size[1]} (HxW) image, the PNG header "
                    f"says {height}x{width}"
                )
            if width * height > max_pixels:
                raise DatasetCorruptError(
                    f"{source}: the PNG header declares {height}x{width} pixels, more than "
                    f"the {max_pixels} accepted"
                )
            if image.mode not in modes:
                raise DatasetCorruptError(
                    f"{source}: expected a PNG of mode {' or '.join(modes)}, got mode "
                    f"{image.mode!r}"
                )
            image.load()
            array = np.asarray(image, dtype=np.uint8)
    except DatasetCorruptError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        # OSError covers truncated data and Pillow's UnidentifiedImageError;
        # SyntaxError is what Pillow raises for a broken PNG chunk.
        raise DatasetCorruptError(
            f"{source}: cannot decode the PNG ({type(error).__name__}: {error}); the file "
            "is truncated or corrupt"
        ) from error
    return array
