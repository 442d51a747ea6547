"""Per-channel operations on NCHW arrays, in Numba (see kernels/reference/channel.py).

Each function mirrors its CUDA twin in kernels/cuda/channel.cu: the same index
decoding, in the same order, with the same variable names.
"""
import numpy as np
from numba import njit, prange

from ..reference.channel import _channel_geometry, _validate_channel_input


def channel_sums(x, shift=None):
    """sums[c] = sum over n, i of (x[n, c, i] - shift[c]); sums_of_squares[c] the same of
    the squares. shift defaults to zeros. Accumulated in float64, returned in x's dtype."""
    if shift is None:
        shift = np.zeros(x.shape[1] if x.ndim >= 2 else 0, dtype=x.dtype)
    _validate_channel_input(x, shift=shift)
    x = np.ascontiguousarray(x)
    N, C, HW = _channel_geometry(x)
    sums = np.empty(C, dtype=x.dtype)
    sums_of_squares = np.empty(C, dtype=x.dtype)
    _channel_sums(x.reshape(-1), np.ascontiguousarray(shift), sums, sums_of_squares, N, C, HW)
    return sums, sums_of_squares


# error_model="numpy": no ZeroDivisionError checks inside the loops, so LLVM can
# vectorize them. fastmath reassoc: lets it reorder the float64 sums across SIMD lanes
# (a different, equally accurate rounding order than the strictly sequential one).
@njit(parallel=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _channel_sums(x, shift, sums, sums_of_squares, N, C, HW):
    """The prange runs over channels, as the GPU runs one block per channel: channels
    are independent, so no two iterations write the same output. The block's threads
    stride over j = n * HW + i; here the same values are walked as two loops, n then i,
    so that the inner loop reads contiguous memory and vectorizes (no division per
    element). The tree reduction in shared memory becomes a running sum."""
    for c in prange(C):
        s = np.float64(shift[c])
        total = 0.0
        total_of_squares = 0.0
        for n in range(N):
            base = (n * C + c) * HW
            for i in range(HW):
                d = np.float64(x[base + i]) - s
                total += d
                total_of_squares += d * d
        sums[c] = total
        sums_of_squares[c] = total_of_squares


def channel_scale_shift(x, scale, shift):
    """y[n, c, i] = x[n, c, i] * scale[c] + shift[c]."""
    _validate_channel_input(x, scale=scale, shift=shift)
    x = np.ascontiguousarray(x)
    N, C, HW = _channel_geometry(x)
    y = np.empty(x.shape, dtype=x.dtype)
    scale, shift = np.ascontiguousarray(scale), np.ascontiguousarray(shift)
    _channel_scale_shift(x.reshape(-1), scale, shift, y.reshape(-1), N * C, C, HW)
    return y


@njit(parallel=True, cache=True, error_model="numpy")
def _channel_scale_shift(x, scale, shift, y, rows, C, HW):
    """The CUDA kernel runs one thread per element and decodes c = (index / HW) % C.
    Here the prange runs over the N * C rows of HW contiguous elements (row = n * C + c,
    so c = row % C, the same decoding done once per row): rows are independent, and the
    inner loop is a contiguous multiply-add that vectorizes."""
    for row in prange(rows):
        c = row % C
        a = scale[c]
        b = shift[c]
        base = row * HW
        for i in range(HW):
            y[base + i] = x[base + i] * a + b
