"""The segmentation figure: for a few images, the image, its ground truth and the
prediction side by side, label maps in the data set's colours.

    grid = prediction_grid(images, masks, predictions, palette, mean, std)
    visualize.save_png("runs/unet/predictions.png", grid)     # uint8 RGB, written atomically
"""
import numpy as np

from ..data.segmentation import colorize

GAP = 4  # white pixels between panels


def to_rgb8(image, mean=None, std=None):
    """uint8 (H, W, 3) of one network input (C, H, W): uint8 as it is; float undone from
    Normalize(mean, std) when given (else taken as [0, 1]) and scaled by 255; a gray
    channel repeated."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        values = image.astype(np.float32)
        if mean is not None:
            channels = values.shape[0]
            mean = np.broadcast_to(np.asarray(mean, np.float32).reshape(-1), (channels,))
            std = np.broadcast_to(np.asarray(std, np.float32).reshape(-1), (channels,))
            values = values * std[:, None, None] + mean[:, None, None]
        image = np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)
    rgb = image.transpose(1, 2, 0)
    return np.repeat(rgb, 3, axis=2) if rgb.shape[2] == 1 else rgb


def prediction_grid(images, masks, predictions, palette, mean=None, std=None):
    """uint8 RGB: one row per sample, panels image | ground truth | prediction.
    images (N, C, H, W) as fed to the network; masks and predictions (N, H, W) ids."""
    rows = []
    for image, mask, prediction in zip(images, masks, predictions):
        panels = [to_rgb8(image, mean, std), colorize(mask, palette), colorize(prediction, palette)]
        height = panels[0].shape[0]
        gap = np.full((height, GAP, 3), 255, np.uint8)
        rows.append(np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1))
    width = rows[0].shape[1]
    separated = []
    for row in rows:
        separated += [row, np.full((GAP, width, 3), 255, np.uint8)]
    return np.concatenate(separated[:-1], axis=0)
