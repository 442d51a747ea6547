"""Gradient clipping and flattening parameters into one vector (``nn.utils``).

All of it runs with array ops on the parameters' device: the total norm stays a 0-d
device array (no transfer to the host), as in PyTorch.
"""
import math

import numpy as np

from .. import devices as _device
from ..autograd import no_grad
from ..tensor import Tensor


def _as_list(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _vector_norm(xp, array, norm_type):
    if math.isinf(norm_type):
        return xp.abs(array).max() if array.size else xp.zeros((), dtype=array.dtype)
    return (xp.abs(array) ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

        total = || (||g_1||, ..., ||g_n||) ||      (norm of the per-tensor norms)
        g_i  *= min(1, max_norm / (total + 1e-6))

    Returns ``total`` (a 0-d Tensor on the gradients' device).
    """
    grads = [p.grad.array for p in _as_list(parameters) if p.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return Tensor._wrap(np.zeros((), dtype=np.float32))
    xp = _device.namespace(grads[0])
    with no_grad():
        norms = xp.stack([_vector_norm(xp, g, norm_type).astype(grads[0].dtype) for g in grads])
        total = _vector_norm(xp, norms, norm_type)
        if error_if_nonfinite and not bool(xp.isfinite(total)):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
            )
        coefficient = xp.minimum(max_norm / (total + 1e-6), 1.0)
        for g in grads:
            g *= coefficient.astype(g.dtype)
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            xp = _device.namespace(p.grad.array)
            xp.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (a copy)."""
    arrays = [p.array for p in _as_list(parameters)]
    xp = _device.namespace(arrays[0])
    return Tensor._wrap(xp.concatenate([a.reshape(-1) for a in arrays]))


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters: vec has {vec.numel()} elements but the parameters hold {total}"
        )
    offset = 0
    for p in params:
        count = p.numel()
        p.array[...] = vec.array[offset:offset + count].reshape(p.shape)
        p._bump_version()
        offset += count
