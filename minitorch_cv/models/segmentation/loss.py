"""The losses the segmentation papers train with, built from ``F.cross_entropy``.

Per pixel i of an (N, K, H, W) score map with target t_i, class weights w (all ones when
None) and, for U-Net, a per-pixel weight p_i (``data.weight_maps.unet_weight_map``):

    pixel_weighted_cross_entropy   loss_i = p_i w[t_i] (lse_i - x_i[t_i])
        "mean" divides the sum by sum_i p_i w[t_i] over the pixels that are not ignored:
        PyTorch's weighted mean of ``cross_entropy(weight=...)``, with p_i w[t_i] as the
        weight (so p = 1 gives exactly ``cross_entropy``), and the paper's energy
        sum_i p_i log softmax(x_i)[t_i] up to that constant.

    segmentation_loss(output, target)  the loss of any model of this package: the
        cross entropy of ``output`` (a score map), or for torchvision's models (a dict
        with "out" and "aux") loss(out) + aux_weight loss(aux), aux_weight = 0.5 as
        torchvision's reference training script.

No new differentiable op: both are compositions of ``cross_entropy`` (reduction
"none"), products and sums, whose gradients are checked where they are defined.
"""
from ... import nn
from ...autograd import no_grad
from ...nn import functional as F
from ...tensor import Tensor


def pixel_weighted_cross_entropy(input, target, pixel_weight, weight=None,  # noqa: A002
                                 ignore_index=-100, reduction="mean"):
    """Cross entropy of logits ``input`` (N, K, ...) against class ids ``target`` (N, ...)
    with each pixel's loss multiplied by ``pixel_weight`` (target's shape, the input's
    dtype, no gradient); see the module docstring."""
    if not isinstance(pixel_weight, Tensor) or pixel_weight.shape != target.shape:
        raise ValueError(
            f"pixel_weight: expected a Tensor of the target's shape {tuple(target.shape)}, got "
            f"{getattr(pixel_weight, 'shape', type(pixel_weight).__name__)}"
        )
    if pixel_weight.dtype != input.dtype:
        raise TypeError(f"pixel_weight: expected the input's dtype {input.dtype}, got "
                        f"{pixel_weight.dtype}")
    pixel_weight = pixel_weight.detach()
    loss = F.cross_entropy(input, target, weight=weight, ignore_index=ignore_index,
                           reduction="none") * pixel_weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    with no_grad():  # the denominator: sum of p_i w[t_i] over the pixels not ignored
        kept = (target != ignore_index).to(pixel_weight.dtype) * pixel_weight
        if weight is not None:
            safe_target = target * (target != ignore_index).long()
            kept = kept * weight.detach()[safe_target]
        denominator = kept.sum()
    return loss.sum() / denominator


def _pixel_loss(scores, target, pixel_weight, weight, ignore_index):
    if pixel_weight is None:
        return F.cross_entropy(scores, target, weight=weight, ignore_index=ignore_index)
    return pixel_weighted_cross_entropy(scores, target, pixel_weight, weight, ignore_index)


def segmentation_loss(output, target, pixel_weight=None, weight=None, ignore_index=-100,
                      aux_weight=0.5):
    """The training loss of a segmentation model's ``output`` (a score map, or a dict
    {"out", "aux"}); see the module docstring."""
    if isinstance(output, dict):
        loss = _pixel_loss(output["out"], target, pixel_weight, weight, ignore_index)
        if "aux" in output and aux_weight:
            loss = loss + aux_weight * _pixel_loss(output["aux"], target, pixel_weight, weight,
                                                   ignore_index)
        return loss
    return _pixel_loss(output, target, pixel_weight, weight, ignore_index)


class SegmentationLoss(nn.Module):
    """``segmentation_loss`` as a module: ``loss_fn(output, target[, pixel_weight])``."""

    def __init__(self, weight=None, ignore_index=-100, aux_weight=0.5):
        super().__init__()
        self.weight = weight
        self.ignore_index = ignore_index
        self.aux_weight = aux_weight

    def forward(self, output, target, pixel_weight=None):
        return segmentation_loss(output, target, pixel_weight, self.weight, self.ignore_index,
                                 self.aux_weight)

    def extra_repr(self):
        return f"ignore_index={self.ignore_index}, aux_weight={self.aux_weight}"
