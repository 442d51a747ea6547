"""Activation kernels with Numba: the CPU implementation of the ``activation`` family.

Same names, signatures and results as ``kernels/reference/activation.py`` (read it
first). Each wrapper validates, makes the input contiguous, allocates the output and
runs one ``@njit`` loop over the flat arrays.

``prange`` runs over the flat index, as the CUDA kernels in
``kernels/cuda/activation.cu`` run one thread per element: each iteration writes its
own element, so any split of the range between the cores gives the same result.
"""
import numpy as np
from numba import njit, prange

from ..reference.activation import _validate_floats


def relu(x):
    """y = x where x > 0, else 0; a NaN stays NaN."""
    _validate_floats(x=x)
    x = np.asarray(x, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    y = np.empty(x.shape, dtype=x.dtype)
    _relu(x.reshape(-1), y.reshape(-1))
    return y


@njit(parallel=True, cache=True)
def _relu(x, y):
    zero = x.dtype.type(0)
    for index in prange(x.size):
        value = x[index]
        y[index] = zero if value <= zero else value


def relu_backward(grad, out):
    """dx = grad where out > 0, else 0."""
    _validate_floats(grad=grad, out=out)
    grad, out = np.asarray(grad, order="C"), np.asarray(out, order="C")
    dx = np.empty(grad.shape, dtype=grad.dtype)
    _relu_backward(grad.reshape(-1), out.reshape(-1), dx.reshape(-1))
    return dx


@njit(parallel=True, cache=True)
def _relu_backward(grad, out, dx):
    zero = grad.dtype.type(0)
    for index in prange(grad.size):
        dx[index] = grad[index] if out[index] > zero else zero
