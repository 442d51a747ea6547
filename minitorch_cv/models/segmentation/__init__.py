"""Semantic segmentation: networks that classify every pixel.

    from minitorch_cv.models import segmentation
    model = segmentation.unet(in_channels=1, num_classes=2)   # or models.get_model("unet")

Files: unet.py (Ronneberger et al. 2015).
"""
from .unet import UNet, unet

__all__ = ["UNet", "unet"]
