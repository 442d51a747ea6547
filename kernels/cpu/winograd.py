"""Winograd F(2x2, 3x3) transforms in Numba: the CPU implementation.

Same names, signatures, layouts and results as ``kernels/reference/winograd.py``, whose
docstring derives the method and the matrices:

    U[:, :, k, c]          = G w[k, c] G^T                       (4, 4, K, C)
    V[:, :, c, n, th, tw]  = B^T d B, d the padded input's 4x4 block at (2*th, 2*tw)
    y's 2x2 tile (th, tw)  = A^T M[:, :, k, n, th, tw] A         cut at (OH, OW)

The matrices hold 0, +-1 and +-1/2, so each product is written out as the additions it
amounts to. ``prange`` runs over the planes the CUDA kernels of ``kernels/cuda/
winograd.cu`` decode from their thread index ((c, n) of the input, (k, n) of the
output, (k, c) of the weight); where a CUDA thread does one tile, a Numba iteration does
a whole plane, one band of tiles (a tile row) at a time:

- input_transform copies the plane into a zero-padded buffer (no bounds tests in the
  tile loops), applies B^T to the band's four rows at once, along whole rows (contiguous,
  vectorized), then B to each tile's four columns;
- output_transform applies A^T along the band's tiles first (each of the 16 positions
  of M is a contiguous run of TW values) and A last, while writing the two output rows.

The additions are grouped as in the CUDA kernels, which compute the same values; the
reference's einsum may sum in another order, so the tests compare with the dtype's
tolerance. The loops allocate their small per-plane buffers themselves and run without
the GIL (``nogil=True``) for the convolutions' chunk pool (ops/chunk_pool.py).
"""
import numpy as np
from numba import njit, prange

from ..reference.winograd import _check_input, _check_m, _check_weight, _output_array, _tile_counts


def weight_transform(w):
    """U (4, 4, K, C) from w (K, C, 3, 3):  U[:, :, k, c] = G w[k, c] G^T."""
    K, C = _check_weight(w)
    u = np.empty((4, 4, K, C), dtype=w.dtype)
    _weight_transform(np.ascontiguousarray(w), u)
    return u


def input_transform(x, PH, PW):
    """V (4, 4, C, N, TH, TW) from x (N, C, H, W):  V[:, :, c, n, th, tw] = B^T d B."""
    N, C, H, W, OH, OW = _check_input("input_transform", x, PH, PW)
    TH, TW = _tile_counts(OH, OW)
    v = np.empty((4, 4, C, N, TH, TW), dtype=x.dtype)
    _input_transform(np.ascontiguousarray(x), v, PH, PW)
    return v


def output_transform(m, OH, OW, out=None):
    """y (N, K, OH, OW) from M (4, 4, K, N, TH, TW):  y's tile (th, tw) = A^T M A; into
    ``out`` when given (C-contiguous, m's dtype), else a new array."""
    K, N, TH, TW = _check_m(m, OH, OW)
    y = _output_array(m, (N, K, OH, OW), out)
    _output_transform(np.ascontiguousarray(m), y)
    return y


@njit(parallel=True, nogil=True, cache=True)
def _weight_transform(w, u):
    """u[:, :, k, c] = G w[k, c] G^T: t = G g (rows), then t G^T (columns)."""
    K, C, _, _ = w.shape
    half = w.dtype.type(0.5)
    for pair in prange(K * C):
        c = pair % C
        k = pair // C
        t = np.empty((4, 3), dtype=w.dtype)
        for j in range(3):
            g0, g1, g2 = w[k, c, 0, j], w[k, c, 1, j], w[k, c, 2, j]
            t[0, j] = g0
            t[1, j] = (g0 + g1 + g2) * half
            t[2, j] = (g0 - g1 + g2) * half
            t[3, j] = g2
        for a in range(4):
            t0, t1, t2 = t[a, 0], t[a, 1], t[a, 2]
            u[a, 0, k, c] = t0
            u[a, 1, k, c] = (t0 + t1 + t2) * half
            u[a, 2, k, c] = (t0 - t1 + t2) * half
            u[a, 3, k, c] = t2


@njit(parallel=True, nogil=True, cache=True)
def _input_transform(x, v, PH, PW):
    """v[:, :, c, n, th, tw] = B^T d B, one input plane (c, n) per iteration.

    B^T d combines rows:  (d0 - d2, d1 + d2, d2 - d1, d1 - d3); (.) B the same
    combinations of columns. The padded plane has the tiles' reach, 2*TH + 2 by
    2*TW + 2 (one more row/column of zeros than the padding when OH/OW is odd).
    """
    N, C, H, W = x.shape
    _, _, _, _, TH, TW = v.shape
    for plane in prange(C * N):
        n = plane % N
        c = plane // N
        d = np.zeros((2 * TH + 2, 2 * TW + 2), dtype=x.dtype)
        for h in range(H):
            for w in range(W):
                d[h + PH, w + PW] = x[n, c, h, w]
        band = np.empty((4, 2 * TW + 2), dtype=x.dtype)  # B^T applied to rows 2*th .. 2*th + 3
        for th in range(TH):
            r = 2 * th
            for q in range(2 * TW + 2):
                band[0, q] = d[r, q] - d[r + 2, q]
                band[1, q] = d[r + 1, q] + d[r + 2, q]
                band[2, q] = d[r + 2, q] - d[r + 1, q]
                band[3, q] = d[r + 1, q] - d[r + 3, q]
            for a in range(4):
                for tw in range(TW):
                    q = 2 * tw
                    v[a, 0, c, n, th, tw] = band[a, q] - band[a, q + 2]
                    v[a, 1, c, n, th, tw] = band[a, q + 1] + band[a, q + 2]
                    v[a, 2, c, n, th, tw] = band[a, q + 2] - band[a, q + 1]
                    v[a, 3, c, n, th, tw] = band[a, q + 1] - band[a, q + 3]


@njit(parallel=True, nogil=True, cache=True)
def _output_transform(m, y):
    """y's tile (th, tw) of plane (k, n) = A^T m[:, :, k, n, th, tw] A, one plane per
    iteration. A^T combines rows: (m0 + m1 + m2, m1 - m2 - m3); (.) A the same
    combinations of columns, giving outputs 2*tw and 2*tw + 1 of a row."""
    _, _, K, N, TH, TW = m.shape
    OH, OW = y.shape[2], y.shape[3]
    for plane in prange(K * N):
        n = plane % N
        k = plane // N
        band = np.empty((2, 4, TW), dtype=m.dtype)  # A^T applied to the band's tiles
        row = np.empty(2 * TW, dtype=m.dtype)
        for th in range(TH):
            for b in range(4):
                for tw in range(TW):
                    m0, m1 = m[0, b, k, n, th, tw], m[1, b, k, n, th, tw]
                    m2, m3 = m[2, b, k, n, th, tw], m[3, b, k, n, th, tw]
                    band[0, b, tw] = m0 + m1 + m2
                    band[1, b, tw] = m1 - m2 - m3
            for i in range(2):
                oh = 2 * th + i
                if oh >= OH:
                    break
                for tw in range(TW):
                    row[2 * tw] = band[i, 0, tw] + band[i, 1, tw] + band[i, 2, tw]
                    row[2 * tw + 1] = band[i, 1, tw] - band[i, 2, tw] - band[i, 3, tw]
                for ow in range(OW):
                    y[n, k, oh, ow] = row[ow]
