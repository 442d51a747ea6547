"""Scaled dot-product attention on the CPU: BLAS matrix products on chunks of rows, the
passes between them in Numba.

Notation and formulas: see ``kernels/reference/attention.py`` (B batch, NH heads,
L query length, S key length, E query/key head dim, Ev value head dim).

What this fast path does differently from the reference, and why:

- The reference builds the (L x S) scores of every head at once: B * NH * L * S values.
  Here the work is cut into chunks of query rows (whole heads while a head's scores fit,
  else blocks of rows of one head) whose scores fit ``_WORKSPACE_BYTES``: the memory
  stays bounded whatever B, NH, L and S, and a chunk stays in the cache between the
  passes that read it.
- Within a chunk, the products (q k^T and p v; in backward also dout v^T, p^T dout,
  ds k and ds^T q) are matrix products, run by NumPy's matmul (BLAS) as the project's
  GEMMs are. The CUDA kernels instead tile the keys and keep an online softmax, because
  a GPU block has a few KiB of shared memory; a CPU chunk holds whole rows of scores, so
  the softmax needs no rescaling. (A Numba kernel written like the CUDA one, one query
  row at a time with scalar loops, ran at half the reference's speed: BLAS is what is
  fast here.)
- Numba runs the passes between the products, one parallel loop over the chunk's rows
  each: scale, bias, causal mask and row max; the normalization and the log-sum-exp;
  the softmax backward. The exponentials between them are NumPy's (np.exp in place):
  NumPy's exp is SIMD-vectorized, Numba's is a scalar call per element (without Intel's
  SVML), several times slower.
- The bias gradient is summed chunk by chunk straight into the bias's shape: no
  (B, NH, L, S) array is made for it.

The bias is read as in the CUDA kernels: its own contiguous array, flat, with one element
stride per dim of (B, NH, L, S) that is 0 on broadcast dims, so a (1, NH, L, S) relative
position bias or a (B, 1, 1, S) padding mask is never copied out to (B, NH, L, S).
"""
import numpy as np
from numba import njit, prange

MAX_HEAD_DIM = None  # BLAS products: any head dim works
_WORKSPACE_BYTES = 1 << 20  # scores of one chunk (backward: two such arrays, p and ds)


def attention_forward(q, k, v, bias, scale, causal):
    """Return ``(out, lse)`` (see the reference). Fully masked rows: out 0, lse +inf."""
    B, NH, L, _ = q.shape
    S, Ev = k.shape[2], v.shape[3]
    q3, k3, v3 = (_heads(a) for a in (q, k, v))
    out = np.empty((B * NH, L, Ev), dtype=q.dtype)
    lse = np.empty((B * NH, L), dtype=q.dtype)
    bias_flat, bias_strides = _bias_and_strides(bias, q)
    for h0, h1, i0, i1 in _chunks(B * NH, L, S, q.itemsize):
        scores = np.matmul(q3[h0:h1, i0:i1], k3[h0:h1].transpose(0, 2, 1))
        row_max = lse[h0:h1, i0:i1]  # holds the row max until _normalize_rows
        _scale_mask_and_shift(scores, bias_flat, *bias_strides, NH, h0, i0, float(scale),
                              bool(causal), row_max, False)
        np.exp(scores, out=scores)
        _normalize_rows(scores, row_max)
        out[h0:h1, i0:i1] = np.matmul(scores, v3[h0:h1])
    return out.reshape(B, NH, L, Ev), lse.reshape(B, NH, L)


def attention_backward(q, k, v, bias, out, lse, dout, scale, causal, need_dbias=True):
    """Return ``(dq, dk, dv, dbias)`` (see the reference); p is recomputed from lse."""
    B, NH, L, E = q.shape
    S = k.shape[2]
    q3, k3, v3, out3, dout3 = (_heads(a) for a in (q, k, v, out, dout))
    lse3 = np.ascontiguousarray(lse).reshape(B * NH, L)
    dq = np.empty(q3.shape, dtype=q.dtype)
    dk = np.zeros(k3.shape, dtype=q.dtype)
    dv = np.zeros(v3.shape, dtype=q.dtype)
    with_dbias = bias is not None and need_dbias
    dbias = np.zeros(bias.shape, dtype=q.dtype) if with_dbias else None
    bias_flat, bias_strides = _bias_and_strides(bias, q)
    scale = float(scale)
    for h0, h1, i0, i1 in _chunks(B * NH, L, S, 2 * q.itemsize):
        p = np.matmul(q3[h0:h1, i0:i1], k3[h0:h1].transpose(0, 2, 1))
        _scale_mask_and_shift(p, bias_flat, *bias_strides, NH, h0, i0, scale, bool(causal),
                              lse3[h0:h1, i0:i1], True)
        np.exp(p, out=p)  # p = exp(s - lse): 0 where masked or where the row is fully masked
        ds = np.matmul(dout3[h0:h1, i0:i1], v3[h0:h1].transpose(0, 2, 1))  # dp, then ds in place
        _softmax_backward_rows(p, ds, dout3[h0:h1, i0:i1], out3[h0:h1, i0:i1])
        dv[h0:h1] += np.matmul(p.transpose(0, 2, 1), dout3[h0:h1, i0:i1])
        dq[h0:h1, i0:i1] = np.matmul(ds, k3[h0:h1]) * q.dtype.type(scale)
        dk[h0:h1] += np.matmul(ds.transpose(0, 2, 1), q3[h0:h1, i0:i1]) * q.dtype.type(scale)
        if with_dbias:
            _add_to_bias_gradient(dbias, ds, NH, h0, i0)
    return dq.reshape(q.shape), dk.reshape(k.shape), dv.reshape(v.shape), dbias


# ----------------------------------------------------------------------- chunking
def _chunks(heads, L, S, bytes_per_score):
    """(h0, h1, i0, i1): rows i0:i1 of heads h0:h1, each chunk's (h1 - h0, i1 - i0, S)
    scores under _WORKSPACE_BYTES: whole heads while one head fits, else row blocks."""
    row_bytes = max(1, S * bytes_per_score)
    if L * row_bytes <= _WORKSPACE_BYTES:
        step = max(1, _WORKSPACE_BYTES // max(1, L * row_bytes))
        for h0 in range(0, heads, step):
            yield h0, min(h0 + step, heads), 0, L
    else:
        rows = max(1, _WORKSPACE_BYTES // row_bytes)
        for h in range(heads):
            for i0 in range(0, L, rows):
                yield h, h + 1, i0, min(i0 + rows, L)


def _heads(array):
    """(B, NH, length, dim) -> (B * NH, length, dim), contiguous."""
    B, NH, length, dim = array.shape
    return np.ascontiguousarray(array).reshape(B * NH, length, dim)


def _bias_and_strides(bias, q):
    """The bias, flat and contiguous, and its element strides over (B, NH, L, S), 0
    where it broadcasts; no bias is a single 0 with every stride 0 (no branch needed)."""
    if bias is None:
        return np.zeros(1, dtype=q.dtype), (0, 0, 0, 0)
    bias = np.ascontiguousarray(bias)
    strides = tuple(
        0 if bias.shape[d] == 1 else int(np.prod(bias.shape[d + 1:])) for d in range(4)
    )
    return bias.reshape(-1), strides


def _add_to_bias_gradient(dbias, ds, NH, h0, i0):
    """dbias += ds of heads h0.. and rows i0.., summed over the dims where the bias has
    size 1 (one head at a time: a chunk may straddle two batch entries)."""
    rows = ds.shape[1]
    for offset in range(ds.shape[0]):
        b, h = divmod(h0 + offset, NH)
        grad = ds[offset]  # (rows, S)
        if dbias.shape[2] == 1:
            grad = grad.sum(axis=0, keepdims=True)
        if dbias.shape[3] == 1:
            grad = grad.sum(axis=1, keepdims=True)
        row_slice = slice(0, 1) if dbias.shape[2] == 1 else slice(i0, i0 + rows)
        dbias[b if dbias.shape[0] > 1 else 0, h if dbias.shape[1] > 1 else 0, row_slice] += grad


# ------------------------------------------------------------- Numba row passes
@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _scale_mask_and_shift(s, bias, bias_sb, bias_sh, bias_sl, bias_ss, NH, h0, i0, scale,
                          causal, shift, shift_given):
    """s[c, r, j] <- scale * s[c, r, j] + bias[b, h, i, j] - shift[c, r] (-inf for j > i
    when causal), for query row i = i0 + r of head h0 + c = b * NH + h.

    shift_given False (forward): shift[c, r] is written, the row max (0 for a fully
    masked row, so that its exps are 0 and not nan). True (backward): shift is the lse,
    and exp(s) is then p itself (exp(-inf) = 0 for a fully masked row, lse = +inf).
    prange over the chunk's rows: each row is independent.
    """
    C, R, S = s.shape
    for row in prange(C * R):
        r = row % R  # flat row index decoded fastest coordinate first
        c = row // R
        h = (h0 + c) % NH
        b = (h0 + c) // NH
        i = i0 + r
        n_keys = min(S, i + 1) if causal else S
        row_max = -np.inf
        for j in range(S):
            if j < n_keys:
                x = s[c, r, j] * scale + bias[b * bias_sb + h * bias_sh + i * bias_sl + j * bias_ss]
            else:
                x = -np.inf
            s[c, r, j] = x
            row_max = max(row_max, x)
        if shift_given:
            row_shift = shift[c, r]
        else:
            row_shift = 0.0 if row_max == -np.inf else row_max
            shift[c, r] = row_shift
        for j in range(S):
            s[c, r, j] -= row_shift


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _normalize_rows(e, row_max):
    """e[c, r] <- e[c, r] / sum_j e[c, r, j] (the softmax), and row_max[c, r] <- the lse,
    row_max + log(sum); a fully masked row (sum 0) keeps its zeros and gets lse +inf."""
    C, R, S = e.shape
    for row in prange(C * R):
        r = row % R
        c = row // R
        total = 0.0
        for j in range(S):
            total += e[c, r, j]
        if total == 0.0:
            row_max[c, r] = np.inf
        else:
            inverse = 1.0 / total
            for j in range(S):
                e[c, r, j] *= inverse
            row_max[c, r] += np.log(total)


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _softmax_backward_rows(p, ds, dout, out):
    """ds[c, r, j] <- p[c, r, j] * (dp[c, r, j] - D) with dp given in ds and
    D = <dout[c, r], out[c, r]> = sum_j p dp (the softmax backward, one row per
    iteration)."""
    C, R, S = p.shape
    Ev = out.shape[2]
    for row in prange(C * R):
        r = row % R
        c = row // R
        D = 0.0
        for d in range(Ev):
            D += dout[c, r, d] * out[c, r, d]
        for j in range(S):
            ds[c, r, j] = p[c, r, j] * (ds[c, r, j] - D)
