"""Scaled dot-product attention on the CPU with Numba, without building the (L x S)
score matrix: one query row at a time, keys in tiles of _TILE, with an online softmax.

Notation and formulas: see ``kernels/reference/attention.py`` (B batch, NH heads,
L query length, S key length, E query/key head dim, Ev value head dim).

The online softmax (one pass over the keys instead of max, then sum, then weights):
    keep a running max m, a running sum l = sum_j exp(s_j - m) and acc = sum_j exp(s_j - m) v_j;
    when a tile of keys raises the max to m', multiply l and acc by exp(m - m') first;
    after the last key, out = acc / l and lse = m + log(l).

The bias is passed as in the CUDA kernels: its own contiguous array, flat, with one
element stride per dim of (B, NH, L, S) that is 0 on broadcast dims, so a (NH, L, S)
relative position bias or a (B, 1, 1, S) padding mask is never copied out to
(B, NH, L, S) (and every call has the same argument types: one compilation per dtype).
"""
import numpy as np
from numba import njit, prange

from ..reference.attention import _reduce_to_bias_shape

MAX_HEAD_DIM = None  # per-row loops: any head dim works
_TILE = 16  # keys per tile: the running max is raised (and acc rescaled) once per tile


def attention_forward(q, k, v, bias, scale, causal):
    """Return ``(out, lse)`` (see the reference). Fully masked rows: out 0, lse +inf."""
    q, k, v = (_read_only_contiguous(a) for a in (q, k, v))
    B, NH, L, _ = q.shape
    Ev = v.shape[3]
    out = np.zeros((B, NH, L, Ev), dtype=q.dtype)
    lse = np.empty((B, NH, L), dtype=q.dtype)
    if lse.size == 0:  # no query rows
        return out, lse
    bias, bias_strides = _bias_and_strides(bias, q)
    _forward_rows(q, k, v, bias, *bias_strides, float(scale), bool(causal), out, lse)
    return out, lse


def attention_backward(q, k, v, bias, out, lse, dout, scale, causal, need_dbias=True):
    """Return ``(dq, dk, dv, dbias)`` (see the reference); p is recomputed from lse."""
    q, k, v, out, lse, dout = (_read_only_contiguous(a) for a in (q, k, v, out, lse, dout))
    B, NH, L, _ = q.shape
    S = k.shape[2]
    dq, dk, dv = (np.zeros(a.shape, dtype=a.dtype) for a in (q, k, v))
    with_dbias = bias is not None and need_dbias
    # dbias needs ds for every (b, h, i, j): it is the only (B, NH, L, S) array, made
    # only when the bias needs a gradient, then summed down to the bias's shape.
    ds_full = np.zeros((B, NH, L, S) if with_dbias else (1, 1, 1, 1), dtype=q.dtype)
    if q.size and k.size:
        bias_flat, bias_strides = _bias_and_strides(bias, q)
        _backward_heads(
            q, k, v, bias_flat, *bias_strides, out, lse, dout, float(scale),
            bool(causal), with_dbias, dq, dk, dv, ds_full,
        )
    dbias = _reduce_to_bias_shape(ds_full, bias.shape) if with_dbias else None
    return dq, dk, dv, dbias


def _read_only_contiguous(array):
    """A C-contiguous, read-only view (copying only a non-contiguous array): inputs
    always reach Numba with the same type, so each dtype compiles once, whether or not
    the caller's array is writable (broadcast views are not)."""
    view = np.ascontiguousarray(array).view()
    view.flags.writeable = False
    return view


def _bias_and_strides(bias, q):
    """The bias, flat and contiguous, and its element strides over (B, NH, L, S), 0
    where it broadcasts; no bias is a single 0 with every stride 0 (no branch needed)."""
    if bias is None:
        return _read_only_contiguous(np.zeros(1, dtype=q.dtype)), (0, 0, 0, 0)
    bias = _read_only_contiguous(bias)
    strides = tuple(
        0 if bias.shape[d] == 1 else int(np.prod(bias.shape[d + 1 :])) for d in range(4)
    )
    return bias.reshape(-1), strides


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _forward_rows(q, k, v, bias, bias_sb, bias_sh, bias_sl, bias_ss, scale, causal, out, lse):
    """out[b, h, i] and lse[b, h, i] for every query row.

    prange over the B*NH*L query rows: each row is independent (its own m, l and
    output row), so rows never race, and there are enough of them to keep every core
    busy even for batch 1. Row index decoding: row = (b * NH + h) * L + i.
    fastmath reassoc/contract lets LLVM vectorize the dot products; it does not assume
    finite values, so -inf scores from masks keep their meaning.
    """
    B, NH, L, E = q.shape
    S = k.shape[2]
    Ev = v.shape[3]
    for row in prange(B * NH * L):
        i = row % L
        h = (row // L) % NH
        b = row // (L * NH)
        acc = out[b, h, i]  # the output row is the accumulator (zeros on entry)
        scores = np.empty(_TILE, dtype=q.dtype)
        n_keys = min(S, i + 1) if causal else S  # causal: keys j <= i only
        m = -np.inf  # running max of the scores seen so far
        l = 0.0  # running sum of exp(s_j - m)
        for k0 in range(0, n_keys, _TILE):
            k1 = min(k0 + _TILE, n_keys)
            # 1. the scores of this tile and their max
            tile_max = -np.inf
            for j in range(k0, k1):
                s = 0.0
                for d in range(E):
                    s += q[b, h, i, d] * k[b, h, j, d]
                s = s * scale + bias[b * bias_sb + h * bias_sh + i * bias_sl + j * bias_ss]
                scores[j - k0] = s
                tile_max = max(tile_max, s)
            # 2. the new running max, and the shift used in the exps: while the row is
            #    fully masked m_new = -inf and the shift is 0, so exp(-inf) = 0, not nan
            m_new = max(m, tile_max)
            shift = 0.0 if m_new == -np.inf else m_new
            # 3. rescale what was summed under the old max (0 on the first unmasked
            #    tile), then add this tile's weights exp(s_j - shift) and weighted values
            alpha = np.exp(m - shift)
            l *= alpha
            for d in range(Ev):
                acc[d] *= alpha
            for j in range(k0, k1):
                p = np.exp(scores[j - k0] - shift)
                l += p
                for d in range(Ev):
                    acc[d] += p * v[b, h, j, d]
            m = m_new
        if l == 0.0:
            lse[b, h, i] = np.inf  # fully masked row: out stays 0, and p = exp(s - inf) = 0
        else:
            for d in range(Ev):
                acc[d] /= l
            lse[b, h, i] = m + np.log(l)


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _backward_heads(
    q, k, v, bias, bias_sb, bias_sh, bias_sl, bias_ss, out, lse, dout, scale, causal,
    with_dbias, dq, dk, dv, ds_full,
):
    """dq, dk, dv (and ds for the bias) of every head, p recomputed as exp(s - lse).

    prange over the B*NH heads: dk_j and dv_j sum over every query row i of the head,
    so the iteration that owns head (b, h) owns all of dq, dk, dv of that head and no
    two iterations write the same element (race-free without atomics or per-thread
    copies). Head index decoding: bh = b * NH + h.
    """
    B, NH, L, E = q.shape
    S = k.shape[2]
    Ev = v.shape[3]
    for bh in prange(B * NH):
        h = bh % NH
        b = bh // NH
        for i in range(L):
            lse_i = lse[b, h, i]
            D_i = 0.0  # D_i = <dout_i, out_i> = sum_j p_ij dp_ij
            for d in range(Ev):
                D_i += dout[b, h, i, d] * out[b, h, i, d]
            n_keys = min(S, i + 1) if causal else S
            for j in range(n_keys):
                s = 0.0
                for d in range(E):
                    s += q[b, h, i, d] * k[b, h, j, d]
                s = s * scale + bias[b * bias_sb + h * bias_sh + i * bias_sl + j * bias_ss]
                p = np.exp(s - lse_i)
                if p == 0.0:
                    continue  # masked (or negligible): ds = 0 and nothing to add
                dp = 0.0
                for d in range(Ev):
                    dp += dout[b, h, i, d] * v[b, h, j, d]
                ds = p * (dp - D_i)
                if with_dbias:
                    ds_full[b, h, i, j] = ds
                for d in range(Ev):
                    dv[b, h, j, d] += p * dout[b, h, i, d]
                for d in range(E):
                    dq[b, h, i, d] += scale * ds * k[b, h, j, d]
                    dk[b, h, j, d] += scale * ds * q[b, h, i, d]
