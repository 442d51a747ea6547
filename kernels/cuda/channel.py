"""Per-channel operations on NCHW arrays: launch wrappers for kernels/cuda/channel.cu.

The same functions serve CuPy arrays (GPU) and NumPy arrays (CPU emulation of CUDA);
see kernels/reference/channel.py for the formulas.
"""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.channel import _channel_geometry, _validate_channel_input
from .launcher import CudaSource

_SOURCE = CudaSource("channel.cu")
CHANNEL_SUMS_BLOCK = 256  # must equal CHANNEL_SUMS_BLOCK in channel.cu


def channel_sums(x, shift=None):
    """sums[c] = sum over n, i of (x[n, c, i] - shift[c]); sums_of_squares[c] the same of
    the squares. shift defaults to zeros. One block of 256 threads per channel."""
    xp = namespace(x)
    if shift is None:
        shift = xp.zeros(x.shape[1] if x.ndim >= 2 else 0, dtype=x.dtype)
    _validate_channel_input(x, shift=shift)
    N, C, HW = _channel_geometry(x)
    sums = xp.empty(C, dtype=x.dtype)
    sums_of_squares = xp.empty(C, dtype=x.dtype)
    if C == 0:
        return sums, sums_of_squares
    _SOURCE.launch(
        "channel_sums",
        grid=(C,),
        block=(CHANNEL_SUMS_BLOCK,),
        args=(x, shift, sums, sums_of_squares, np.int64(N), np.int32(C), np.int64(HW)),
    )
    return sums, sums_of_squares


def channel_scale_shift(x, scale, shift):
    """y[n, c, i] = x[n, c, i] * scale[c] + shift[c]. One thread per element of y."""
    _validate_channel_input(x, scale=scale, shift=shift)
    N, C, HW = _channel_geometry(x)
    y = namespace(x).empty(x.shape, dtype=x.dtype)  # contiguous: the kernel writes it in place
    total = y.size
    _SOURCE.launch_per_element(
        "channel_scale_shift", total,
        (x, scale, shift, y, np.int64(total), np.int32(C), np.int64(HW)),
    )
    return y
