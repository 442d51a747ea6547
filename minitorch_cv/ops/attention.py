"""Scaled dot-product attention: out = softmax(scale * q k^T + bias) v, per head.

Notation: B batch, NH heads, L query length, S key length, E query/key head dim, Ev
value head dim (see ``kernels/reference/attention.py`` for the formulas).

Two Functions:
  ScaledDotProductAttention  the fused kernels (``backend.ATTENTION.on(...)``):
                             the (L x S) probabilities are never stored; backward
                             recomputes them from the saved row log-sum-exps.
  AttentionProbabilities     p = softmax(scale * q k^T + bias) as a tensor, for what
                             needs the probabilities themselves: dropout on them,
                             ``nn.MultiheadAttention(need_weights=True)``
                             (``attention_and_weights``), and head dims above the CUDA
                             kernels' limit. It is the explicit (memory-hungry) path,
                             like PyTorch's math fallback.

Deviation from PyTorch: float16/bfloat16 inputs are not supported (float32/float64).
"""
import math

import numpy as np

from .. import backend, checks, dtypes
from ..autograd import Function
from ..devices import device_of_array, namespace
from ..random import generator
from ..tensor import Tensor
from ._util import unbroadcast
from .matmul import matmul
from .shape import expand, reshape


class ScaledDotProductAttention(Function):
    """Fused attention on 4-D arrays (B, NH, L, E); bias is None or 4-D with every dim
    1 or full (broadcast inside the kernels, never copied to (B, NH, L, S))."""

    @staticmethod
    def forward(ctx, q, k, v, bias, scale, causal):
        kernels = backend.ATTENTION.on(device_of_array(q))
        out, lse = kernels.attention_forward(q, k, v, bias, scale, causal)
        ctx.save_for_backward(q, k, v, bias, out, lse)
        ctx.scale, ctx.causal = scale, causal
        return out

    @staticmethod
    def backward(ctx, grad):
        q, k, v, bias, out, lse = ctx.saved_tensors
        kernels = backend.ATTENTION.on(device_of_array(q))
        dq, dk, dv, dbias = kernels.attention_backward(
            q, k, v, bias, out, lse, grad, ctx.scale, ctx.causal,
            need_dbias=ctx.needs_input_grad[3],
        )
        return dq, dk, dv, dbias, None, None


class AttentionProbabilities(Function):
    """p = softmax(scale * q k^T + bias) over the last dim, materialized (B, NH, L, S).

    Backward (the softmax backward, then the two products):
        ds = p * (dp - sum_j dp_ij p_ij)      dq = scale * ds k      dk = scale * ds^T q
        dbias = ds summed over the dims where bias has size 1
    Fully masked rows give p = 0 (not NaN), as in the fused kernels.
    """

    @staticmethod
    def forward(ctx, q, k, bias, scale, causal):
        xp = namespace(q)
        scores = (q @ k.swapaxes(-1, -2)) * scale
        if bias is not None:
            scores = scores + bias
        if causal:
            L, S = scores.shape[-2:]
            allowed = xp.tril(xp.ones((L, S), dtype=bool))
            scores = xp.where(allowed, scores, -np.inf).astype(q.dtype, copy=False)
        if scores.shape[-1] == 0:  # no keys: every row is fully masked
            row_max = xp.full(scores.shape[:-1] + (1,), -np.inf, dtype=scores.dtype)
        else:
            row_max = scores.max(axis=-1, keepdims=True)
        fully_masked = row_max == -np.inf
        e = xp.exp(scores - xp.where(fully_masked, 0, row_max))
        row_sum = e.sum(axis=-1, keepdims=True)
        p = e / xp.where(fully_masked, 1, row_sum)
        ctx.save_for_backward(q, k, p)
        ctx.scale = scale
        ctx.bias_shape = None if bias is None else bias.shape
        return p

    @staticmethod
    def backward(ctx, grad):
        q, k, p = ctx.saved_tensors
        ds = p * (grad - (grad * p).sum(axis=-1, keepdims=True))
        dq = (ds @ k) * ctx.scale if ctx.needs_input_grad[0] else None
        dk = (ds.swapaxes(-1, -2) @ q) * ctx.scale if ctx.needs_input_grad[1] else None
        dbias = unbroadcast(ds, ctx.bias_shape) if ctx.needs_input_grad[2] else None
        return dq, dk, dbias, None, None


# --------------------------------------------------------------------------- wrapper
def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None
):
    """softmax(query key^T * scale + mask) value, with PyTorch's signature and semantics.

    query (..., L, E), key (..., S, E), value (..., S, Ev); the leading dims broadcast.
    attn_mask: None, a bool tensor (True = takes part in attention) or a float tensor
        added to the scores (it receives a gradient), broadcastable to (..., L, S).
    dropout_p: dropout on the attention probabilities (always applied when > 0, as in
        PyTorch's functional); this takes the explicit path, which stores p.
    is_causal: query i attends to keys j <= i (top-left aligned when L != S).
    scale: defaults to 1 / sqrt(E).
    Rows whose keys are all masked out give 0 (PyTorch gives 0 too).
    Head dims above the CUDA kernels' limit (128) take the explicit path as well.
    """
    batch, L, S = _check_inputs(query, key, value, attn_mask, dropout_p, is_causal)
    E, Ev = query.shape[-1], value.shape[-1]
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    q, k, v, bias = _as_4d(query, key, value, attn_mask, batch)

    limit = backend.ATTENTION.on(query.device).MAX_HEAD_DIM
    if dropout_p > 0 or (limit is not None and max(E, Ev) > limit):
        out, _ = _explicit_attention(q, k, v, bias, scale, bool(is_causal), dropout_p)
    else:
        out = ScaledDotProductAttention.apply(q, k, v, bias, scale, bool(is_causal))
    return reshape(out, tuple(batch) + (L, Ev))


def attention_and_weights(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None
):
    """``(out, weights)``: scaled_dot_product_attention through the explicit path, which
    stores the attention weights (..., L, S) and returns them too, after dropout (what
    ``nn.MultiheadAttention(need_weights=True)`` returns, as in PyTorch). Differentiable
    in both outputs."""
    batch, L, S = _check_inputs(query, key, value, attn_mask, dropout_p, is_causal)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    q, k, v, bias = _as_4d(query, key, value, attn_mask, batch)
    out, p = _explicit_attention(q, k, v, bias, scale, bool(is_causal), dropout_p)
    return reshape(out, tuple(batch) + (L, value.shape[-1])), reshape(p, tuple(batch) + (L, S))


def _explicit_attention(q, k, v, bias, scale, causal, dropout_p):
    """p = softmax(...) as a tensor, dropout on p, then p @ v (4-D tensors in and out)."""
    p = AttentionProbabilities.apply(q, k, bias, scale, causal)
    if dropout_p > 0:
        p = p * _dropout_mask(p, dropout_p)
    return matmul(p, v), p


def _dropout_mask(p, dropout_p):
    """keep / (1 - dropout_p) with keep ~ Bernoulli(1 - dropout_p) (inverted dropout)."""
    keep = generator(p.device).random(p.shape) >= dropout_p
    factor = 0.0 if dropout_p >= 1 else 1.0 / (1.0 - dropout_p)
    return Tensor((keep * factor).astype(p.dtype))


# ------------------------------------------------------------------------ validation
def _check_inputs(query, key, value, attn_mask, dropout_p, is_causal):
    """Raise before any kernel runs; return the broadcast batch shape, L and S."""
    name = "scaled_dot_product_attention"
    named = [("query", query), ("key", key), ("value", value)]
    for arg, x in named:
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: {arg} must be a Tensor, got {type(x).__name__}")
        if x.ndim < 2:
            raise RuntimeError(
                f"{name}: {arg} must have at least 2 dims (..., length, head dim), "
                f"got shape {x.shape}"
            )
        if x.dtype not in checks.FLOAT_DTYPES:
            raise TypeError(f"{name}: {arg} must be float32 or float64, got {x.dtype}")
        if x.device != query.device:
            raise RuntimeError(
                f"{name}: expected query and {arg} on the same device, got {query.device} "
                f"and {x.device}"
            )
        if x.dtype != query.dtype:
            raise TypeError(
                f"{name}: expected query and {arg} to have the same dtype, got "
                f"{query.dtype} (shape {query.shape}) and {x.dtype} (shape {x.shape})"
            )
    L, E = query.shape[-2:]
    S = key.shape[-2]
    if E == 0:
        raise ValueError(f"{name}: the head dim E of query must be at least 1, got shape {query.shape}")
    if key.shape[-1] != E:
        raise RuntimeError(
            f"{name}: query (..., L, E) and key (..., S, E) must share E, got shapes "
            f"{query.shape} and {key.shape}"
        )
    if value.shape[-2] != S:
        raise RuntimeError(
            f"{name}: key (..., S, E) and value (..., S, Ev) must share S, got shapes "
            f"{key.shape} and {value.shape}"
        )
    shapes = [x.shape[:-2] for _, x in named]
    batch = _broadcast_shapes(name, [arg for arg, _ in named], shapes)
    if attn_mask is not None:
        _check_mask(name, attn_mask, query, batch, L, S)
        if is_causal:
            raise RuntimeError(f"{name}: attn_mask must be None when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}: dropout_p must be in [0, 1], got {dropout_p}")
    return batch, L, S


def _check_mask(name, mask, query, batch, L, S):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}: attn_mask must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype != dtypes.bool_ and mask.dtype != query.dtype:
        raise TypeError(
            f"{name}: attn_mask must be bool or have the query's dtype {query.dtype}, "
            f"got {mask.dtype}"
        )
    if mask.device != query.device:
        raise RuntimeError(
            f"{name}: expected attn_mask on the query's device {query.device}, got {mask.device}"
        )
    target = tuple(batch) + (L, S)
    fits = mask.ndim <= len(target) and all(
        m in (1, t) for m, t in zip(reversed(mask.shape), reversed(target))
    )
    if not fits:
        raise RuntimeError(
            f"{name}: attn_mask of shape {mask.shape} does not broadcast to the attention "
            f"weights' shape (..., L, S) = {target}"
        )


def _broadcast_shapes(name, args, shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(f"{a} {s}" for a, s in zip(args, shapes))
        raise RuntimeError(f"{name}: the batch dims (all but the last two) do not broadcast: {listed}") from None


# ---------------------------------------------------------------------- reshaping
def _batch_4d(batch):
    """Leading dims -> the kernels' (B, NH): () -> (1, 1), (n,) -> (1, n), (b, h) as is,
    and more dims merge into B: (a, b, h) -> (a * b, h)."""
    if len(batch) == 0:
        return (1, 1)
    if len(batch) == 1:
        return (1, batch[0])
    return (int(np.prod(batch[:-1])), batch[-1])


def _as_4d(query, key, value, attn_mask, batch):
    """query, key, value and the mask as the kernels' 4-D tensors (the bias None)."""
    q, k, v = (_to_4d(x, batch) for x in (query, key, value))
    bias = None if attn_mask is None else _bias_to_4d(_as_bias(attn_mask, query.dtype), batch)
    return q, k, v, bias


def _to_4d(x, batch):
    """Broadcast x's leading dims to ``batch`` (a differentiable expand, so the gradient
    is summed back) and reshape to (B, NH, length, dim)."""
    full = tuple(batch) + x.shape[-2:]
    if x.shape != full:
        x = expand(x, full)
    return reshape(x, _batch_4d(batch) + x.shape[-2:])


def _as_bias(mask, dtype):
    """A bool mask becomes 0 where True and -inf where False; a float mask is the bias."""
    if mask.dtype != dtypes.bool_:
        return mask
    xp = namespace(mask.array)
    return Tensor(xp.where(mask.array, 0, -np.inf).astype(dtype))


def _bias_to_4d(bias, batch):
    """The bias with 4 dims, each 1 (broadcast) or full, keeping size-1 dims so that the
    kernels broadcast it without a copy. Leading dims that merge into B are expanded
    first unless they are all 1 (a merge of broadcast and full dims has no stride)."""
    lead = len(batch)
    shape = (1,) * (lead + 2 - bias.ndim) + bias.shape  # one dim per batch dim, L, S
    if lead <= 2:
        return reshape(bias, (1,) * (2 - lead) + shape)
    bias = reshape(bias, shape)
    merged = shape[: lead - 1]
    if any(size != 1 for size in merged):
        bias = expand(bias, tuple(batch[:-1]) + shape[lead - 1 :])
        merged = batch[:-1]
    return reshape(bias, (int(np.prod(merged)), shape[lead - 1]) + shape[-2:])
