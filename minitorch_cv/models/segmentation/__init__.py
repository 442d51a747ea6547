"""Semantic segmentation: networks that classify every pixel.

    from minitorch_cv.models import segmentation
    model = segmentation.unet(in_channels=1, num_classes=2)   # or models.get_model("unet")

Files: unet.py (Ronneberger et al. 2015), loss.py (per-pixel weighted cross entropy,
auxiliary losses).
"""
from .loss import SegmentationLoss, pixel_weighted_cross_entropy, segmentation_loss
from .unet import OverlapTile, UNet, unet

__all__ = [
    "OverlapTile",
    "SegmentationLoss",
    "UNet",
    "pixel_weighted_cross_entropy",
    "segmentation_loss",
    "unet",
]
