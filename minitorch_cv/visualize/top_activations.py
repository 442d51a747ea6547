"""The images that excite a feature most, and what in them does (ZFNet, figure 2).

For one feature map (``channel`` of ``layer``), every image of a data set is run up to
that layer and scored by the map's largest activation. The k best images are then shown
twice, cut to the receptive field of that activation: the image patch itself, and the
deconvnet projection of the activation (projection.py), which says which of the patch's
pixels drove it. ZFNet's figure 2 puts the 3 x 3 projections of a feature beside its
3 x 3 patches: ``TopActivations.figure()``.

The receptive field of position (oh, ow) of a layer's output is the box of input pixels
it depends on, walked down the layers from [oh, oh] x [ow, ow]:

    convolution or pooling (K, S, P, D along an axis):  [a, b] -> [a*S - P, b*S - P + D*(K-1)]
    ReLU, LRN, BatchNorm2d, Dropout, Identity:          unchanged (they act per position)

(P being the padding before the first row or column). Near the border the box extends
past the image; the patches keep the box's full size and are blank (black for the image,
mid-gray for the projection, i.e. zero) outside it, so all k patches align.
"""
from dataclasses import dataclass

import numpy as np

from .. import checks, nn
from ..data import DataLoader, TensorDataset
from ..data.dataset import fetch_batch
from ..devices import to_device
from ..tensor import Tensor
from .images import make_grid, to_image
from .projection import chain_to, project, strongest
from .recording import NotInvertibleError, as_batch, run_recorded

_PER_POSITION = (nn.ReLU, nn.LocalResponseNorm, nn.BatchNorm2d, nn.Dropout, nn.Dropout2d, nn.Identity)


@dataclass
class TopActivations:
    indices: np.ndarray  # (k,) positions in the data set, strongest first
    activations: np.ndarray  # (k,) the feature's largest activation in each of them
    positions: np.ndarray  # (k, 2) (row, column) of that activation in the layer's output
    boxes: np.ndarray  # (k, 4) its receptive field in input pixels: top, left, bottom, right (exclusive)
    patches: np.ndarray  # (k, RH, RW[, 3]) display images: the image inside the box
    projections: np.ndarray  # (k, RH, RW[, 3]) display images: the deconvnet projection inside the box

    def figure(self, nrow=3, padding=1, gap=4):
        """ZFNet's figure 2 for this feature: the projections in a grid of nrow per row,
        a white gap, then the patches in the same order."""
        left = make_grid(list(self.projections), nrow=nrow, padding=padding)
        right = make_grid(list(self.patches), nrow=nrow, padding=padding)
        spacer = np.ones((left.shape[0], gap) + left.shape[2:])
        return np.concatenate([left, spacer, right], axis=1)


def top_activations(model, dataset, layer, channel, k=9, transform=None, batch_size=100):
    """The k images of ``dataset`` whose feature map ``channel`` of ``layer`` reaches
    the largest values, with receptive-field patches and deconvnet projections.

    dataset: a data set of (image, label) samples (CIFAR10, MNIST, ...) or an array /
    Tensor of images (N, C, H, W). transform: what turns a batch of its images into the
    model's input (e.g. ``data.transforms.Normalize(mean, std)``); without one the images
    must already be float inputs. Equal scores keep the data set's order.
    """
    if isinstance(dataset, (np.ndarray, Tensor)):
        dataset = TensorDataset(dataset if isinstance(dataset, Tensor) else Tensor(dataset))
    if not isinstance(k, int) or not 1 <= k <= len(dataset):
        raise ValueError(f"k: expected an int in [1, {len(dataset)}] (the data set's size), got {k!r}")
    values = []
    for batch in DataLoader(dataset, batch_size=batch_size):
        _, activation = run_recorded(model, _inputs(model, batch[0], transform), stop_at=layer)
        values.append(strongest(activation, channel)[1])
    values = np.concatenate([_host(v) for v in values])
    indices = np.argsort(-values, kind="stable")[:k]

    raw = _host(_array(fetch_batch(dataset, indices)[0]))
    x = _inputs(model, raw, transform)
    steps, activation = run_recorded(model, x, stop_at=layer)
    if activation.ndim != 4:
        raise NotInvertibleError(
            f"layer: top_activations needs feature maps (N, K, OH, OW), got shape {tuple(activation.shape)}"
        )
    chain = chain_to(steps, x, activation)
    signal, strongest_values, flat_positions = strongest(activation, channel)
    projections = project(chain, signal, "deconvnet", x.shape).numpy()

    OW = activation.shape[3]
    positions = np.stack(np.divmod(_host(flat_positions), OW), axis=1)
    boxes = np.array([receptive_field(chain, row, column) for row, column in positions])
    patches = [to_image(_crop(image, box), "auto") for image, box in zip(raw, boxes)]
    shown = [to_image(_crop(p, box), "symmetric") for p, box in zip(projections, boxes)]
    return TopActivations(indices=indices, activations=_host(strongest_values), positions=positions,
                          boxes=boxes, patches=np.stack(patches), projections=np.stack(shown))


def receptive_field(chain, row, column):
    """(top, left, bottom, right), bottom and right exclusive: the input pixels that
    position (row, column) of the last step's output depends on (module docstring)."""
    rows, columns = [row, row], [column, column]
    for step in reversed(chain):
        layer = step.module
        if isinstance(layer, _PER_POSITION):
            continue
        if isinstance(layer, nn.Conv2d):
            top, _, left, _ = checks.conv_padding("receptive_field", layer.padding, layer.kernel_size,
                                                  layer.stride, layer.dilation)
            kernel, stride, dilation = layer.kernel_size, layer.stride, layer.dilation
            padding = (top, left)
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            kernel, stride, padding = (checks.pair("receptive_field", name, getattr(layer, name))
                                       for name in ("kernel_size", "stride", "padding"))
            dilation = checks.pair("receptive_field", "dilation", getattr(layer, "dilation", 1))
        else:
            raise NotInvertibleError(
                f"no receptive field through {step.name!r} ({type(layer).__name__}): "
                "top_activations looks at convolutional layers"
            )
        for span, K, S, P, D in ((rows, kernel[0], stride[0], padding[0], dilation[0]),
                                 (columns, kernel[1], stride[1], padding[1], dilation[1])):
            span[0], span[1] = span[0] * S - P, span[1] * S - P + D * (K - 1)
    return rows[0], columns[0], rows[1] + 1, columns[1] + 1


def _crop(image, box):
    """image[:, top:bottom, left:right] of a (C, H, W) array, zeros where the box leaves
    the image."""
    top, left, bottom, right = box
    H, W = image.shape[-2:]
    out = np.zeros(image.shape[:-2] + (bottom - top, right - left), dtype=image.dtype)
    t, l, b, r = max(top, 0), max(left, 0), min(bottom, H), min(right, W)
    if t < b and l < r:
        out[..., t - top : b - top, l - left : r - left] = image[..., t:b, l:r]
    return out


def _inputs(model, images, transform):
    """The model's input for a batch of data-set images."""
    images = _host(_array(images))
    if transform is not None:
        images = transform(images)
    elif images.dtype.kind != "f":
        raise TypeError(
            f"dataset: its images are {images.dtype}; pass transform= to turn them into the "
            "model's input (e.g. data.transforms.Normalize(mean, std))"
        )
    return as_batch(model, images)[0]


def _array(value):
    return value.array if isinstance(value, Tensor) else value


def _host(array):
    return to_device(array, "cpu")
