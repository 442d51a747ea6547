"""Launch wrappers for the CUDA Winograd F(2x2, 3x3) transforms of ``winograd.cu``.

Same names, signatures, layouts and results as ``kernels/reference/winograd.py`` (the
method and the matrices are derived there). Each wrapper allocates its output contiguous
and launches one thread per tile (per (k, c) pair for the weight) through the project's
launcher, passing every scalar as the NumPy type of its C parameter. On CuPy arrays the
kernels run on the GPU; on NumPy arrays, in the launcher's CPU emulation.
"""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.winograd import _check_input, _check_m, _check_weight, _output_array, _tile_counts
from .runtime import CudaSource

_SOURCE = CudaSource("winograd.cu")


def weight_transform(w):
    """U (4, 4, K, C) from w (K, C, 3, 3):  U[:, :, k, c] = G w[k, c] G^T. One thread per
    (k, c)."""
    K, C = _check_weight(w)
    u = namespace(w).empty((4, 4, K, C), dtype=w.dtype)
    total = K * C
    _SOURCE.launch_per_element("weight_transform", total, (w, u, np.int64(total), np.int32(K), np.int32(C)))
    return u


def input_transform(x, PH, PW):
    """V (4, 4, C, N, TH, TW) from x (N, C, H, W):  V[:, :, c, n, th, tw] = B^T d B. One
    thread per tile (c, n, th, tw)."""
    N, C, H, W, OH, OW = _check_input("input_transform", x, PH, PW)
    TH, TW = _tile_counts(OH, OW)
    v = namespace(x).empty((4, 4, C, N, TH, TW), dtype=x.dtype)
    total = C * N * TH * TW
    ints = tuple(np.int32(value) for value in (N, C, H, W, PH, PW, TH, TW))
    _SOURCE.launch_per_element("input_transform", total, (x, v, np.int64(total)) + ints)
    return v


def output_transform(m, OH, OW, out=None):
    """y (N, K, OH, OW) from M (4, 4, K, N, TH, TW):  y's tile (th, tw) = A^T M A; into
    ``out`` when given (C-contiguous, m's dtype), else a new array. One thread per tile
    (k, n, th, tw)."""
    K, N, TH, TW = _check_m(m, OH, OW)
    y = _output_array(m, (N, K, OH, OW), out)
    total = K * N * TH * TW
    ints = tuple(np.int32(value) for value in (K, N, OH, OW, TH, TW))
    _SOURCE.launch_per_element("output_transform", total, (m, y, np.int64(total)) + ints)
    return y
