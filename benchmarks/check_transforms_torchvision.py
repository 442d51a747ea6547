"""Our torchvision-vocabulary transforms against torchvision's, with the same parameters.

    python benchmarks/check_transforms_torchvision.py

Needs PyTorch and torchvision; make a virtual environment that has them with
``bash ../shared/tools/torch-reference-env.sh /path/to/venv`` (it installs this checkout
into it) and run the script with that venv's python.

Random transforms cannot be compared draw for draw (the generators differ), so each
random transform is checked through the function that applies given parameters (a crop
box, factors, an angle) against torchvision's functional op with the same parameters.
Every row prints the largest absolute difference over a batch of random images, for
float32 images in [0, 1] and for uint8 images; a row passes under its tolerance (1e-5
for float32; for uint8, 1, since torchvision's uint8 antialias and blend kernels round in
their own way). For NEAREST rotations it prints the fraction of pixels that differ:
torchvision computes the sampling grid in float32, so a pixel whose source lies within
~1e-6 of a rounding boundary can land on the neighbour. The exit status is 1 when any
row fails. Nothing here is timed.
"""
import sys

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import v2 as tv
from torchvision.transforms.v2 import functional as TF

from minitorch_cv.data import transforms as T
from minitorch_cv.data.transforms_color import ColorJitter
from minitorch_cv.data.transforms_resize import InterpolationMode, resize_crops
from minitorch_cv.data.transforms_rotation import rotate

RNG = np.random.default_rng(0)
FLOAT_IMAGES = RNG.random((4, 3, 23, 31)).astype(np.float32)
UINT8_IMAGES = RNG.integers(0, 256, (4, 3, 23, 31), dtype=np.uint8)
TV_MODE = {InterpolationMode.BILINEAR: tv.InterpolationMode.BILINEAR,
           InterpolationMode.NEAREST: tv.InterpolationMode.NEAREST}
rows = []


def report(name, ours, theirs, tolerance, fraction=False):
    theirs = theirs.numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = ours.numpy() if hasattr(ours, "numpy") and not isinstance(ours, np.ndarray) else ours
    if ours.shape != theirs.shape:
        rows.append((name, f"shape {ours.shape} vs {theirs.shape}", False))
        return
    difference = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    value = float((difference > 0).mean()) if fraction else float(difference.max(initial=0))
    rows.append((name, f"{value:.3g}" + (" of pixels" if fraction else ""), value <= tolerance))


def both_dtypes(name, ours_fn, theirs_fn, tolerances=(1e-5, 1)):
    for images, tolerance in zip((FLOAT_IMAGES, UINT8_IMAGES), tolerances):
        theirs = torch.stack([theirs_fn(torch.from_numpy(image)) for image in images])
        report(f"{name} [{images.dtype}]", ours_fn(images), theirs, tolerance)


def check_resize():
    for size in [(11, 17), (47, 60), (23, 90), (7, 5)]:
        for mode in (InterpolationMode.BILINEAR, InterpolationMode.NEAREST):
            for antialias in (True, False):
                if mode == InterpolationMode.NEAREST and not antialias:
                    continue
                both_dtypes(
                    f"resize {size} {mode.value} antialias={antialias}",
                    lambda x: resize_crops(x, size, (0, 0, 23, 31), mode, antialias),
                    lambda x: TF.resize(x, list(size), TV_MODE[mode], antialias=antialias),
                )
    both_dtypes("Resize(12) shorter side", T.Resize(12),
                lambda x: TF.resize(x, [12], antialias=True))
    both_dtypes("Resize(12, max_size=14)", T.Resize(12, max_size=14),
                lambda x: TF.resize(x, [12], max_size=14, antialias=True))


def check_crops():
    for size in [(10, 10), (23, 31), (30, 40), (8, 31)]:
        both_dtypes(f"CenterCrop{size}", T.CenterCrop(size), lambda x: TF.center_crop(x, list(size)))
    boxes = (np.array([0, 3, 5, 10]), np.array([2, 0, 9, 1]), np.array([20, 9, 12, 13]),
             np.array([25, 14, 7, 30]))  # top, left, height, width per image
    for mode in (InterpolationMode.BILINEAR, InterpolationMode.NEAREST):
        def ours(x):
            return resize_crops(x, (16, 16), boxes, mode, True)

        for images, tolerance in ((FLOAT_IMAGES, 1e-5), (UINT8_IMAGES, 1)):
            theirs = torch.stack([
                TF.resized_crop(torch.from_numpy(image), int(boxes[0][n]), int(boxes[1][n]),
                                int(boxes[2][n]), int(boxes[3][n]), [16, 16], TV_MODE[mode],
                                antialias=True)
                for n, image in enumerate(images)
            ])
            report(f"resized crop {mode.value} [{images.dtype}]", ours(images), theirs, tolerance)


def check_color():
    adjustments = [
        ("brightness", 0, 1.7, TF.adjust_brightness),
        ("contrast", 1, 0.4, TF.adjust_contrast),
        ("saturation", 2, 1.9, TF.adjust_saturation),
        ("hue", 3, 0.23, TF.adjust_hue),
        ("hue", 3, -0.41, TF.adjust_hue),
    ]
    jitter = ColorJitter()
    for name, which, factor, theirs_fn in adjustments:
        for images, tolerance in ((FLOAT_IMAGES, 1e-5), (UINT8_IMAGES, 1)):
            ours = jitter._adjust(which, images, np.full(len(images), factor), 255 if images.dtype == np.uint8 else 1.0)
            theirs = torch.stack([theirs_fn(torch.from_numpy(image), factor) for image in images])
            report(f"{name} {factor} [{images.dtype}]", ours, theirs, tolerance)


def check_rotation():
    angles = np.array([17.0, -63.5, 90.0, 141.3])
    for mode in (InterpolationMode.BILINEAR, InterpolationMode.NEAREST):
        for expand, center, fill in ((False, None, 0), (False, (5.0, 9.0), 0.5), (True, None, 0)):
            for images, tolerance in ((FLOAT_IMAGES, 1e-5), (UINT8_IMAGES, 1)):
                fill_value = fill if images.dtype != np.uint8 else int(fill * 200)
                nearest = mode == InterpolationMode.NEAREST
                name = f"rotate {mode.value} expand={expand} center={center} fill={fill_value} [{images.dtype}]"
                if expand:  # one size per angle: one image at a time
                    for n in range(len(images)):
                        ours = rotate(images[n : n + 1], angles[n : n + 1], mode, True, center, fill_value)
                        theirs = TF.rotate(torch.from_numpy(images[n : n + 1]), float(angles[n]),
                                           TV_MODE[mode], expand=True, center=center, fill=fill_value)
                        report(f"{name} angle {angles[n]}", ours, theirs,
                               0.002 if nearest else tolerance, fraction=nearest)
                    continue
                ours = rotate(images, angles, mode, expand, center, fill_value)
                theirs = torch.stack([
                    TF.rotate(torch.from_numpy(image), float(angle), TV_MODE[mode],
                              center=list(center) if center else None, fill=fill_value)
                    for image, angle in zip(images, angles)
                ])
                report(name, ours, theirs, 0.002 if nearest else tolerance, fraction=nearest)


def check_erasing_and_to_tensor():
    erasing = T.RandomErasing(value=(0.1, 0.5, 0.9))
    params = (np.array([1, 5, 0, 7]), np.array([2, 0, 9, 4]), np.array([5, 17, 3, 0]),
              np.array([9, 4, 21, 0]), None)
    ours = erasing.apply(FLOAT_IMAGES, params)
    theirs = torch.stack([
        TF.erase(torch.from_numpy(image), int(params[0][n]), int(params[1][n]), int(params[2][n]),
                 int(params[3][n]), torch.tensor([0.1, 0.5, 0.9]).view(3, 1, 1))
        for n, image in enumerate(FLOAT_IMAGES)
    ])
    report("erase given boxes [float32]", ours, theirs, 0)
    hwc = UINT8_IMAGES[0].transpose(1, 2, 0)  # (23, 31, 3), as torchvision data sets give
    from torchvision.transforms import ToTensor as TorchvisionToTensor

    report("ToTensor (H, W, C) uint8", T.ToTensor()(hwc), TorchvisionToTensor()(hwc), 0)
    report("ToTensor PIL image", T.ToTensor()(Image.fromarray(hwc)),
           TorchvisionToTensor()(Image.fromarray(hwc)), 0)


def main():
    check_resize()
    check_crops()
    check_color()
    check_rotation()
    check_erasing_and_to_tensor()
    width = max(len(name) for name, _, _ in rows)
    print(f"{'transform':<{width}}  {'max |ours - torchvision|':>26}  ok")
    for name, value, passed in rows:
        print(f"{name:<{width}}  {value:>26}  {'yes' if passed else 'NO'}")
    failed = [name for name, _, passed in rows if not passed]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} rows pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
