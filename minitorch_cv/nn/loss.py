"""Loss layers: modules that hold the loss options and call nn.functional.

``reduction`` is "mean" (default), "sum" or "none". A class ``weight`` (and
BCEWithLogitsLoss's ``pos_weight``) is registered as a buffer, as in PyTorch, so it
follows ``.to(device)`` and appears in the state_dict.
"""
from ..tensor import Tensor
from . import functional as F
from .module import Module

_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average, reduce):
    """PyTorch's mapping of the deprecated size_average/reduce flags to ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if weight is not None and not isinstance(weight, Tensor):
            raise TypeError(
                f"{type(self).__name__}: weight must be a Tensor or None, "
                f"got {type(weight).__name__}"
            )
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """-sum_c q_c log softmax(x)_c, with q the (optionally smoothed) one-hot target or
    class probabilities; see F.cross_entropy."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}"
            )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002 - PyTorch's argument name
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """-weight[t] * input[n, t] for the class t of each sample (input: log-probabilities)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """(input - target)^2, reduced."""

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """-weight * (pos_weight * y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))),
    computed stably from the logits x."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        for value, name in ((weight, "weight"), (pos_weight, "pos_weight")):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"BCEWithLogitsLoss: {name} must be a Tensor or None, got {type(value).__name__}"
                )
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
