"""Scaled dot-product attention, NumPy reference: the specification the Numba and CUDA
kernels are tested against. It builds the whole (L x S) score matrix per head, which is
exactly what the other two implementations avoid.

Notation
    B   batch                      NH  heads
    L   query length               S   key (and value) length
    E   query/key head dim         Ev  value head dim

    q     (B, NH, L, E)            k   (B, NH, S, E)          v   (B, NH, S, Ev)
    bias  None, or 4-D with every dim either 1 or the matching dim of (B, NH, L, S):
          an additive term broadcast over the score matrix (-inf entries mask keys out)
    out   (B, NH, L, Ev)           lse (B, NH, L)

Forward, per head:
    s_ij   = scale * <q_i, k_j> + bias_ij          (s_ij = -inf where j > i if causal)
    lse_i  = log sum_j exp(s_ij)                    (the log-sum-exp of row i)
    p_ij   = exp(s_ij - lse_i)                      (softmax over j)
    out_i  = sum_j p_ij v_j

Backward, given dout = dL/dout, with the probabilities recomputed from lse:
    dv_j    = sum_i p_ij dout_i
    dp_ij   = <dout_i, v_j>
    D_i     = sum_j p_ij dp_ij = <dout_i, out_i>
    ds_ij   = p_ij (dp_ij - D_i)                    (the softmax backward)
    dq_i    = scale * sum_j ds_ij k_j
    dk_j    = scale * sum_i ds_ij q_i
    dbias   = ds summed over the dims where bias has size 1

A row whose scores are all -inf (every key masked out) gets out_i = 0 and
lse_i = +inf, so that p_ij = exp(s_ij - lse_i) = 0 and every gradient through it is 0
(PyTorch also returns zeros there).
"""
import numbers

import numpy as np

from . import _arguments as args

# No limit on the head dim here (the CUDA kernels keep a tile of rows in shared memory
# and have one); all three implementations export the name.
MAX_HEAD_DIM = None


def attention_forward(q, k, v, bias, scale, causal):
    """Return ``(out, lse)``: softmax(scale * q k^T + bias) v and the row log-sum-exps."""
    _check_attention("attention_forward", q, k, v, bias, scale, causal)
    scale = float(scale)  # a Python float keeps float32 arrays float32
    scores = _scores(q, k, bias, scale, causal)
    row_max = scores.max(axis=-1, keepdims=True, initial=-np.inf)  # -inf when S = 0
    fully_masked = row_max == -np.inf
    # Subtract the row max so that exp never overflows; a fully masked row would give
    # -inf - (-inf) = nan, so it subtracts 0 instead (its exps are all 0).
    shift = np.where(fully_masked, 0, row_max)
    e = np.exp(scores - shift)
    row_sum = e.sum(axis=-1, keepdims=True)
    p = e / np.where(fully_masked, 1, row_sum)
    out = p @ v
    lse = np.where(fully_masked, np.inf, shift + np.log(np.where(fully_masked, 1, row_sum)))
    return out, lse[..., 0].astype(q.dtype, copy=False)


def attention_backward(q, k, v, bias, out, lse, dout, scale, causal, need_dbias=True):
    """Return ``(dq, dk, dv, dbias)``; dbias has bias's shape (None without a bias, or
    when ``need_dbias`` is False)."""
    _check_attention("attention_backward", q, k, v, bias, scale, causal, out, lse, dout)
    scale = float(scale)
    scores = _scores(q, k, bias, scale, causal)
    p = np.exp(scores - lse[..., None])  # 0 wherever s is -inf or lse is +inf
    dv = p.swapaxes(-1, -2) @ dout
    dp = dout @ v.swapaxes(-1, -2)
    D = (dout * out).sum(axis=-1, keepdims=True)
    ds = p * (dp - D)
    dq = (ds @ k) * scale
    dk = (ds.swapaxes(-1, -2) @ q) * scale
    dbias = None
    if bias is not None and need_dbias:
        dbias = _reduce_to_bias_shape(ds, bias.shape)
    return dq, dk, dv, dbias


def _reduce_to_bias_shape(ds, bias_shape):
    """Sum ds (B, NH, L, S) over the dims that the bias broadcasts (its size-1 dims)."""
    stretched = tuple(d for d in range(4) if bias_shape[d] == 1 and ds.shape[d] != 1)
    if stretched:
        ds = ds.sum(axis=stretched, keepdims=True)
    return ds


def _scores(q, k, bias, scale, causal):
    """s = scale * q k^T + bias, with -inf above the diagonal when causal (the top-left
    aligned lower triangle j <= i, as in PyTorch, also when L != S)."""
    scores = (q @ k.swapaxes(-1, -2)) * scale
    if bias is not None:
        scores = scores + bias
    if causal:
        L, S = scores.shape[-2:]
        allowed = np.tril(np.ones((L, S), dtype=bool))
        scores = np.where(allowed, scores, -np.inf).astype(q.dtype, copy=False)
    return scores


# ------------------------------------------------------------------ argument checks
def _check_attention(kernel, q, k, v, bias, scale, causal, out=None, lse=None, dout=None):
    """q (B, NH, L, E), k (B, NH, S, E), v (B, NH, S, Ev) of one float dtype; bias None
    or 4-D with each dim that of (B, NH, L, S) or 1; a finite scale; for the backward
    out and dout (B, NH, L, Ev) and lse (B, NH, L). Sizes are 32-bit ints (the CUDA
    kernels take L, S, E, Ev as int)."""
    B, NH, L, E = args.float_array(kernel, "q", q, ndim=4)
    S = args.float_array(kernel, "k", k, ndim=4, dtype=q.dtype)[2]
    args.float_array(kernel, "k", k, shape=(B, NH, S, E))
    Ev = args.float_array(kernel, "v", v, ndim=4, dtype=q.dtype)[3]
    args.float_array(kernel, "v", v, shape=(B, NH, S, Ev))
    args.integers(kernel, B=B, NH=NH, L=L, S=S, E=E, Ev=Ev)
    if bias is not None:
        shape = args.float_array(kernel, "bias", bias, ndim=4)
        if any(b not in (1, full) for b, full in zip(shape, (B, NH, L, S))):
            raise ValueError(f"{kernel}: bias {shape} must broadcast to (B, NH, L, S) = {(B, NH, L, S)}")
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real) or not np.isfinite(scale):
        raise ValueError(f"{kernel}: scale must be a finite number, got {scale!r}")
    if out is not None:
        args.float_array(kernel, "out", out, shape=(B, NH, L, Ev))
        args.float_array(kernel, "lse", lse, shape=(B, NH, L))
        args.float_array(kernel, "dout", dout, shape=(B, NH, L, Ev))
