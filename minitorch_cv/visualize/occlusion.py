"""Occlusion sensitivity (ZFNet, figure 7): does the network look at the object?

Slide a square of constant value over the image and, at every position, run the occluded
image through the network. Where covering the image makes the probability of the true
class collapse, the network was using those pixels:

    probability[i, j] = softmax(model(x with the patch at (i*SH, j*SW) set to fill))[target]
    label[i, j]       = the most probable class of that occluded image
    activation[i, j]  = the total activation (sum over positions) of feature map
                        ``channel`` of ``layer`` for that image (with a layer)

for i in 0 .. (H - PH) // SH and j in 0 .. (W - PW) // SW: positions (i, j) of the map
are patch positions, the patch covering rows i*SH .. i*SH + PH - 1 and columns
j*SW .. j*SW + PW - 1. ``fill`` is in the model's input units: after a Normalize
transform 0 is the data set's mean colour, ZFNet's "grey square".
"""
from dataclasses import dataclass

import numpy as np

from .. import checks
from ..autograd import no_grad
from ..nn import functional as F
from .recording import as_batch, evaluating, resolve_layer

FN = "occlusion_map"


@dataclass
class OcclusionMap:
    probability: np.ndarray  # (OH, OW) probability of the target class
    label: np.ndarray  # (OH, OW) most probable class
    activation: np.ndarray  # (OH, OW) total activation of the chosen feature map, or None
    channel: int  # that feature map (None without a layer)
    unoccluded_probability: float  # the probability of the target class on x itself


def occlusion_map(model, x, target, patch, stride, fill=0.0, layer=None, channel=None, batch_size=64):
    """The occlusion maps of one image x ((C, H, W) or (1, C, H, W)) for class ``target``.

    patch, stride: an int or a pair (PH, PW), (SH, SW). With ``layer`` (a module name or
    module), also the total activation of its feature map ``channel`` (by default the one
    with the largest total activation on x itself). The occluded images run through the
    model ``batch_size`` at a time.
    """
    x, _ = as_batch(model, x)
    if x.shape[0] != 1:
        raise ValueError(f"x: expected one image, got a batch of {x.shape[0]}")
    H, W = x.shape[-2:]
    PH, PW = checks.pair(FN, "patch", patch, minimum=1)
    SH, SW = checks.pair(FN, "stride", stride, minimum=1)
    if PH > H or PW > W:
        raise ValueError(f"patch: expected at most the image size {(H, W)}, got {(PH, PW)}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    OH, OW = (H - PH) // SH + 1, (W - PW) // SW + 1

    probabilities, activations = _run(model, x, layer)
    classes = probabilities.shape[1]
    if not isinstance(target, (int, np.integer)) or isinstance(target, bool) or not 0 <= target < classes:
        raise ValueError(f"target: expected a class in [0, {classes}), got {target!r}")
    if layer is not None and channel is None:
        channel = int(activations[0].argmax())
    if layer is not None and not 0 <= channel < activations.shape[1]:
        raise ValueError(f"channel: expected an int in [0, {activations.shape[1]}), got {channel!r}")

    probability, label, activation = [], [], []
    positions = [(i, j) for i in range(OH) for j in range(OW)]
    for start in range(0, len(positions), batch_size):
        batch = positions[start : start + batch_size]
        occluded = x.numpy().repeat(len(batch), axis=0)
        for n, (i, j) in enumerate(batch):
            occluded[n, :, i * SH : i * SH + PH, j * SW : j * SW + PW] = fill
        p, a = _run(model, occluded, layer)
        probability.append(p[:, target])
        label.append(p.argmax(axis=1))
        if layer is not None:
            activation.append(a[:, channel])
    return OcclusionMap(
        probability=np.concatenate(probability).reshape(OH, OW),
        label=np.concatenate(label).reshape(OH, OW),
        activation=np.concatenate(activation).reshape(OH, OW) if layer is not None else None,
        channel=channel,
        unoccluded_probability=float(probabilities[0, target]),
    )


def _run(model, images, layer):
    """(class probabilities (N, classes), total activation per channel (N, K) or None),
    in one forward pass: a hook on ``layer`` keeps its output on the way."""
    images, _ = as_batch(model, images)
    captured = []
    handle = None
    if layer is not None:
        module = resolve_layer(model, layer)[1]
        handle = module.register_forward_hook(lambda module, args, output: captured.append(output))
    try:
        with evaluating(model), no_grad():
            scores = model(images)
    finally:
        if handle is not None:
            handle.remove()
    if scores.ndim != 2:
        raise ValueError(f"model: expected class scores (N, classes), got shape {tuple(scores.shape)}")
    probabilities = F.softmax(scores, dim=1).numpy()
    if layer is None:
        return probabilities, None
    activation = captured[0].numpy()
    return probabilities, activation.reshape(activation.shape[0], activation.shape[1], -1).sum(axis=2)
