"""Which pixels made a unit fire? ZFNet's deconvnet, guided backprop and the saliency map.

Zeiler & Fergus (ZFNet, "Visualizing and Understanding Convolutional Networks", 2014)
take one activation of a trained network, set every other activation of its layer to
zero, and run the network BACKWARDS to the input, undoing each layer in turn:

    max pooling   -> unpooling: each value goes back to the pixel its window's maximum
                     came from (the "switches" recorded in the forward pass), zeros
                     elsewhere;
    ReLU          -> ReLU again, on the reconstructed signal: relu(signal);
    convolution   -> transposed convolution with the same filters (conv_transpose2d with
                     the layer's weight, no bias): each output position spreads its value
                     back over the input window it was computed from.

The result, an image-shaped array, shows the input structure that the unit responds to.
Two relatives differ from it at the ReLU only (Springenberg et al. 2015 compare them):

    rule              through a ReLU, given the signal s coming down and the forward
                      output y = relu(x) of that ReLU
    gradient          s * (y > 0)            the chain rule: saliency (Simonyan et al.
                                             2014), computed by autograd, for any model
    deconvnet         relu(s)                ZFNet: the sign of s decides, not x
    guided backprop   relu(s) * (y > 0)      both: only positive signal, only where the
                                             unit was active

Everywhere else the three agree: unpooling with the switches is exactly the gradient of
max pooling, and the transposed convolution exactly the gradient of a convolution with
respect to its input. So ``deconvnet`` and ``guided_backprop`` share one walk down the
network (``project``), and the saliency map is the gradient itself. Two details:
- overlapping pooling windows (ZFNet's and AlexNet's 3x3 stride 2) can share a switch;
  max_unpool2d would keep one of the two values, the transpose of pooling adds them. For
  such windows the unpooling is max_pool2d's own backward (the same switches), for
  non-overlapping ones (VGG's 2x2 stride 2) it is max_unpool2d;
- local response normalization: ZFNet's deconvnet has no step for it and passes the
  signal through; guided backprop uses its gradient.

Which networks: any "Sequential-style" stack (see recording.py), ZFNet, AlexNet and VGG
included, built from Conv2d (zero padding), ReLU, MaxPool2d, LocalResponseNorm, and,
between the convolutions and the class scores, Linear, Flatten, Dropout (off in eval
mode), Identity, AvgPool2d, AdaptiveAvgPool2d and BatchNorm2d (affine in eval mode: each
goes down through its transpose). Any other layer kind (GELU, Sigmoid, LeakyReLU, a
residual block, a module with a forward of its own...) raises NotInvertibleError
naming the layer.
"""
import contextlib

import numpy as np

from .. import checks, nn
from ..autograd import enable_grad, no_grad
from ..devices import namespace
from ..nn import functional as F
from ..ops import where
from ..tensor import Tensor
from .recording import NotInvertibleError, as_batch, chain_to, evaluating, run_recorded

RULES = ("deconvnet", "guided")

# Linear in eval mode, without parameters: the signal goes down through the layer's
# vector-Jacobian product, which for a linear map is its transpose.
_PARAMETER_FREE_LINEAR = (nn.AvgPool2d, nn.AdaptiveAvgPool2d)
# Layers whose transpose only undoes a reshape (Dropout is the identity in eval mode).
_PASS_THROUGH = (nn.Flatten, nn.Dropout, nn.Dropout2d, nn.Identity)
SUPPORTED = (nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.LocalResponseNorm, nn.Linear, nn.BatchNorm2d,
             *_PARAMETER_FREE_LINEAR, *_PASS_THROUGH)


# ------------------------------------------------------------------ the public functions
def deconvnet(model, x, layer, channel):
    """ZFNet's projection of the strongest activation of feature map ``channel`` of
    ``layer`` (a module name such as "features.3", or the module) down to the input.

    x: (C, H, W) or (N, C, H, W), the model's input. For each image, the activation of
    ``layer`` is kept at the position where ``channel`` is largest, every other value
    of the layer is set to zero, and the signal is projected down with unpooling,
    rectification and transposed convolution. Returns a NumPy array of x's shape.
    """
    x, unbatched = as_batch(model, x)
    steps, activation = run_recorded(model, x, stop_at=layer)
    signal, _, _ = strongest(activation, channel)
    return _as_result(project(chain_to(steps, x, activation), signal, "deconvnet", x.shape), unbatched)


def guided_backprop(model, x, target, layer=None):
    """Guided backpropagation (Springenberg et al. 2015) of class ``target`` (an int, or
    one per image), or with ``layer``: of the strongest activation of channel ``target``
    of that layer. Returns a NumPy array of x's shape (signed: show it with
    ``to_image(..., mode="symmetric")``)."""
    x, unbatched = as_batch(model, x)
    steps, output = run_recorded(model, x, stop_at=layer)
    if layer is None:
        signal = _score_gradient(output, target)
    else:
        signal, _, _ = strongest(output, target, keep_value=False)
    return _as_result(project(chain_to(steps, x, output), signal, "guided", x.shape), unbatched)


def saliency(model, x, target):
    """Simonyan et al. (2014): the saliency map of class ``target`` (an int, or one per
    image) is max over channels c of |d score_target / d x[c, h, w]|, the gradient of the
    class score (the logit, before softmax) with respect to the input, by autograd.

    Works for any model (residual networks too). Returns (H, W), or (N, H, W) for a
    batch. The model's parameters get no gradient: they are frozen during the call.
    """
    x, unbatched = as_batch(model, x)
    x.requires_grad_()
    with evaluating(model), _frozen_parameters(model), enable_grad():
        scores = model(x)
        scores.backward(_score_gradient(scores, target))
    xp = namespace(x.grad.array)
    return _as_result(Tensor(xp.abs(x.grad.array).max(axis=1)), unbatched)


# ------------------------------------------------------------------------ the walk down
def project(chain, signal, rule, input_shape):
    """Carries ``signal`` (shaped like the last step's output) down ``chain`` to the
    input of its first step, layer by layer; ``rule`` says how it passes a ReLU."""
    if rule not in RULES:
        raise ValueError(f"rule: expected one of {RULES}, got {rule!r}")
    with no_grad():
        for step in reversed(chain):
            signal = signal.reshape(step.output.shape)  # undo a flatten done between modules
            signal = _down(step, signal, rule)
        return signal.reshape(input_shape)


def _down(step, signal, rule):
    """The signal below ``step.module``, given the signal above it."""
    layer = step.module
    if isinstance(layer, nn.ReLU):
        return _rectify(signal, step.output, rule)
    if isinstance(layer, nn.MaxPool2d):
        return _unpool(layer, step, signal)
    if isinstance(layer, nn.Conv2d):
        return _transposed_conv(layer, step, signal)
    if isinstance(layer, nn.LocalResponseNorm):
        # ZFNet's deconvnet passes it; guided backprop takes its gradient.
        return signal if rule == "deconvnet" else _vjp(layer, step.input, signal)
    if isinstance(layer, nn.Linear):
        return signal @ layer.weight.detach()  # y = x W^T + b, so the transpose is s W
    if isinstance(layer, nn.BatchNorm2d) and layer.running_var is not None:
        return _through_batch_norm(layer, signal)
    if isinstance(layer, _PARAMETER_FREE_LINEAR):
        return _vjp(layer, step.input, signal)
    if isinstance(layer, _PASS_THROUGH):
        return signal.reshape(step.input.shape)
    kinds = ", ".join(kind.__name__ for kind in SUPPORTED)
    raise NotInvertibleError(
        f"cannot project through {step.name!r}: a {type(layer).__name__} has no deconvnet "
        f"step (supported: {kinds}; BatchNorm2d with running statistics)"
    )


def _rectify(signal, relu_output, rule):
    """deconvnet: relu(s); guided: relu(s) where the ReLU was active, 0 elsewhere."""
    rectified = F.relu(signal)
    if rule == "deconvnet":
        return rectified
    return where(relu_output > 0, rectified, 0.0)


def _unpool(pool, step, signal):
    """Each value back to its window's switch, zeros elsewhere (see the module docstring
    for overlapping windows). The switches are those of the forward pass: max_pool2d
    with return_indices=True on the input the pooling received."""
    H, W = step.input.shape[-2:]
    kernel, stride, dilation = (checks.pair("deconvnet", name, getattr(pool, name))
                                for name in ("kernel_size", "stride", "dilation"))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))  # extent of a dilated window
    if any(s < r for s, r in zip(stride, reach)):  # overlapping windows: add shared switches
        return _vjp(pool, step.input, signal)
    # Windows do not overlap, so a pixel is the switch of at most one window.
    _, switches = F.max_pool2d(step.input, kernel, stride, pool.padding, dilation,
                               ceil_mode=pool.ceil_mode, return_indices=True)
    # max_unpool2d only uses kernel_size to check output_size: the window's extent fits.
    return F.max_unpool2d(signal, switches, reach, stride, pool.padding, output_size=(H, W))


def _transposed_conv(conv, step, signal):
    """conv2d's transpose: conv_transpose2d with the same weight, no bias, onto the
    PADDED input, whose border is then cut away (the transpose of zero padding)."""
    if conv.padding_mode != "zeros":
        raise NotInvertibleError(
            f"cannot project through {step.name!r}: padding_mode={conv.padding_mode!r} (only zero padding)"
        )
    top, bottom, left, right = checks.conv_padding("deconvnet", conv.padding, conv.kernel_size,
                                                   conv.stride, conv.dilation)
    H, W = step.input.shape[-2:]
    OH, OW = signal.shape[-2:]
    (KH, KW), (SH, SW), (DH, DW) = conv.kernel_size, conv.stride, conv.dilation
    # The rows/columns of the padded input that no window reached (a stride that does not
    # divide evenly) are recovered by output_padding.
    output_padding = (
        H + top + bottom - ((OH - 1) * SH + DH * (KH - 1) + 1),
        W + left + right - ((OW - 1) * SW + DW * (KW - 1) + 1),
    )
    padded = F.conv_transpose2d(signal, conv.weight.detach(), stride=conv.stride,
                                output_padding=output_padding, groups=conv.groups, dilation=conv.dilation)
    return padded[:, :, top : top + H, left : left + W]


def _through_batch_norm(norm, signal):
    """In eval mode y = (x - mean) / sqrt(var + eps) * weight + bias: the transpose
    multiplies by weight / sqrt(var + eps), channel by channel."""
    scale = 1 / (norm.running_var + norm.eps).sqrt()
    if norm.weight is not None:
        scale = scale * norm.weight.detach()
    return signal * scale.reshape(1, -1, 1, 1)


def _vjp(layer, x, signal):
    """signal^T d layer(x) / dx, by autograd: for a linear layer, its transpose applied to
    signal; for max pooling, the switches; for LRN, its gradient at x."""
    with enable_grad():
        leaf = x.detach().requires_grad_()
        layer(leaf).backward(signal)
    return leaf.grad


# ------------------------------------------------------------------------------ helpers
def strongest(activation, channel, keep_value=True):
    """(signal, values (N,), positions (N,)): for every image n, the position (a flat
    index over the spatial dims) and value of the largest activation of ``channel``, and
    a signal shaped like ``activation`` that holds that value there (1 with
    keep_value=False: the gradient of that one activation) and zeros elsewhere."""
    if not isinstance(activation, Tensor) or activation.ndim < 2:
        raise NotInvertibleError("the layer must return one Tensor of shape (N, channels, ...)")
    K = activation.shape[1]
    if not isinstance(channel, (int, np.integer)) or isinstance(channel, bool) or not 0 <= channel < K:
        raise ValueError(f"channel: expected an int in [0, {K}) (the layer's channels), got {channel!r}")
    a = activation.array
    xp = namespace(a)
    N = a.shape[0]
    plane = a[:, int(channel)].reshape(N, -1)
    positions = plane.argmax(axis=1)  # the first maximum in row-major order
    values = plane[xp.arange(N), positions]
    signal_plane = xp.zeros_like(plane)
    signal_plane[xp.arange(N), positions] = values if keep_value else 1
    signal = xp.zeros_like(a)
    signal[:, int(channel)] = signal_plane.reshape(a[:, 0].shape)
    return Tensor(signal), values, positions


def _score_gradient(scores, target):
    """d scores[n, target[n]] / d scores: one-hot rows; scores must be (N, classes)."""
    if scores.ndim != 2:
        raise ValueError(
            f"target: the model must return class scores (N, classes), got shape {tuple(scores.shape)}"
        )
    N, classes = scores.shape
    targets = np.broadcast_to(np.asarray(target), (N,)) if np.ndim(target) == 0 else np.asarray(target)
    valid = targets.shape == (N,) and targets.dtype.kind in "iu"
    if not valid or targets.min() < 0 or targets.max() >= classes:
        raise ValueError(f"target: expected a class in [0, {classes}) or one per image ({N}), got {target!r}")
    one_hot = np.zeros((N, classes), dtype=scores.array.dtype)
    one_hot[np.arange(N), targets] = 1
    return Tensor(one_hot).to(scores.device)


def _as_result(tensor, unbatched):
    array = tensor.numpy()
    return array[0] if unbatched else array


@contextlib.contextmanager
def _frozen_parameters(model):
    """Within the block the model's parameters require no gradient (so a backward leaves
    their .grad alone); their flags are restored afterwards."""
    parameters = list(model.parameters())
    flags = [p.requires_grad for p in parameters]
    for p in parameters:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(parameters, flags):
            p.requires_grad_(flag)
