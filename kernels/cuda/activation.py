"""Activation kernels: launch wrappers for ``kernels/cuda/activation.cu`` (GPU or CPU
emulation). Same names, signatures and results as ``kernels/reference/activation.py``;
one thread per element."""
import numpy as np

from minitorch_cv.devices import namespace

from ..reference.activation import _validate_floats
from .runtime import CudaSource

_SOURCE = CudaSource("activation.cu")


def relu(x):
    """y = x where x > 0, else 0; a NaN stays NaN. One thread per element."""
    _validate_floats(x=x)
    y = namespace(x).empty(x.shape, dtype=x.dtype)  # contiguous: the kernel writes it flat
    _SOURCE.launch_per_element("relu", y.size, (x, y, np.int64(y.size)))
    return y


def relu_backward(grad, out):
    """dx = grad where out > 0, else 0. One thread per element."""
    _validate_floats(grad=grad, out=out)
    dx = namespace(grad).empty(grad.shape, dtype=grad.dtype)
    _SOURCE.launch_per_element("relu_backward", dx.size, (grad, out, dx, np.int64(dx.size)))
    return dx
