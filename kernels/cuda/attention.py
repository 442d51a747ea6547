"""Launch wrappers of ``attention.cu``: fused scaled dot-product attention on the GPU
(CuPy arrays) or under the CPU emulation executor (NumPy arrays).

Same functions and signatures as ``kernels/reference/attention.py`` (formulas there).
Kernels and their thread mapping (details in the comments of attention.cu):
    attention_forward          one block per (query tile, head, batch): out, lse
    attention_backward_rowdot  one thread per query row: D_i = <dout_i, out_i>
    attention_backward_dq      one block per (query tile, head, batch): dq (and ds for
                               the bias gradient)
    attention_backward_dkdv    one block per (key tile, head, batch): dk, dv
The bias is passed as its own (contiguous) array with one element stride per dim of
(B, NH, L, S), 0 on broadcast dims, so it is never expanded to (B, NH, L, S).
"""
import math

import numpy as np

from minitorch_cv.devices import namespace

from ..reference.attention import _reduce_to_bias_shape
from .runtime import BLOCK, CudaSource, grid_1d

MAX_HEAD_DIM = 128  # E_MAX in attention.cu: the rows of a shared-memory tile
_MAX_GRID_YZ = 65535  # CUDA's limit on gridDim.y (heads) and gridDim.z (batch)
_SOURCE = CudaSource("attention.cu")


def _tile(dtype):
    """TILE in attention.cu: 16 for float (256 threads), 8 for double (64 threads)."""
    return 16 if np.dtype(dtype).itemsize == 4 else 8


def attention_forward(q, k, v, bias, scale, causal):
    """Return ``(out, lse)`` (see the reference). Fully masked rows: out 0, lse +inf."""
    _check(q, k, v)
    xp = namespace(q)
    B, NH, L, E = q.shape
    S, Ev = k.shape[2], v.shape[3]
    out = xp.zeros((B, NH, L, Ev), dtype=q.dtype)
    lse = xp.full((B, NH, L), np.inf, dtype=q.dtype)
    if lse.size == 0:  # no query rows (no keys: every row is fully masked, lse = +inf)
        return out, lse
    bias, strides = _bias_and_strides(bias, q, S)
    tile = _tile(q.dtype)
    _SOURCE.launch(
        "attention_forward",
        grid=(math.ceil(L / tile), NH, B),
        block=(tile * tile,),
        args=(q, k, v, bias, out, lse, *_sizes(L, S, E, Ev), *strides,
              q.dtype.type(scale), np.int32(bool(causal))),
    )
    return out, lse


def attention_backward(q, k, v, bias, out, lse, dout, scale, causal, need_dbias=True):
    """Return ``(dq, dk, dv, dbias)`` (see the reference); p is recomputed from lse."""
    _check(q, k, v)
    xp = namespace(q)
    B, NH, L, E = q.shape
    S, Ev = k.shape[2], v.shape[3]
    # Outputs are allocated C-contiguous (zeros_like would copy a strided input's
    # layout, and the kernels write flat row-major indices).
    dq, dk, dv = (xp.zeros(a.shape, dtype=a.dtype) for a in (q, k, v))
    with_dbias = bias is not None and need_dbias
    # The only (B, NH, L, S) array: ds for the bias gradient, when one is needed.
    ds_full = xp.zeros((B, NH, L, S) if with_dbias else (1,), dtype=q.dtype)
    if q.size and k.size:
        D = xp.empty((B, NH, L), dtype=q.dtype)
        rows = B * NH * L
        _SOURCE.launch(
            "attention_backward_rowdot",
            grid=grid_1d(rows),
            block=(BLOCK,),
            args=(out, dout, D, np.int64(rows), np.int32(Ev)),
        )
        bias_array, strides = _bias_and_strides(bias, q, S)
        tile = _tile(q.dtype)
        common = (*_sizes(L, S, E, Ev), *strides, q.dtype.type(scale), np.int32(bool(causal)))
        _SOURCE.launch(
            "attention_backward_dq",
            grid=(math.ceil(L / tile), NH, B),
            block=(tile * tile,),
            args=(q, k, v, bias_array, lse, D, dout, dq, ds_full, *common, np.int32(with_dbias)),
        )
        _SOURCE.launch(
            "attention_backward_dkdv",
            grid=(math.ceil(S / tile), NH, B),
            block=(tile * tile,),
            args=(q, k, v, bias_array, lse, D, dout, dk, dv, *common),
        )
    dbias = _reduce_to_bias_shape(ds_full, bias.shape) if with_dbias else None
    return dq, dk, dv, dbias


def _sizes(L, S, E, Ev):
    return np.int32(L), np.int32(S), np.int32(E), np.int32(Ev)


def _bias_and_strides(bias, q, S):
    """The bias (contiguous) and its element strides over (B, NH, L, S), 0 where it
    broadcasts; no bias is a single 0 with every stride 0."""
    xp = namespace(q)
    if bias is None:
        return xp.zeros((1,), dtype=q.dtype), (np.int64(0),) * 4
    bias = xp.ascontiguousarray(bias)
    strides = []
    for d in range(4):
        step = int(np.prod(bias.shape[d + 1 :]))
        strides.append(np.int64(0 if bias.shape[d] == 1 else step))
    return bias, tuple(strides)


def _check(q, k, v):
    """What the kernels assume and cannot check themselves."""
    if q.dtype not in (np.float32, np.float64):
        raise TypeError(f"attention: the CUDA kernels take float32 or float64, got {q.dtype}")
    B, NH, _, E = q.shape
    Ev = v.shape[3]
    if E > MAX_HEAD_DIM or Ev > MAX_HEAD_DIM:
        raise ValueError(
            f"attention: the CUDA kernels hold head dims up to {MAX_HEAD_DIM} in shared "
            f"memory, got E={E} (q {q.shape}) and Ev={Ev} (v {v.shape})"
        )
    if B > _MAX_GRID_YZ or NH > _MAX_GRID_YZ:
        raise ValueError(
            f"attention: the CUDA grid takes at most {_MAX_GRID_YZ} batches and heads, "
            f"got B={B} and NH={NH}"
        )
