"""Optimizer kernels with Numba: the CPU implementation of the ``optimizer`` family.

Same names, signatures and results as ``kernels/reference/optimizer.py`` (read it
first). ``prange`` runs over the flat index, as the CUDA kernel runs one thread per
element: each iteration updates its own element of param and buffer.

The wrapper casts the scalars to the arrays' dtype, so that a float32 parameter is
updated in float32 with one rounding per operation, in the reference's order: the same
values as the NumPy form (LLVM does not fuse a multiply and an add unless fastmath
allows it).
"""
import numpy as np
from numba import njit, prange

from ..reference.optimizer import _validate_compiled_sgd


def sgd_step(param, grad, buffer, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step):
    """One SGD update of ``param`` (and ``buffer`` when momentum != 0), in place."""
    _validate_compiled_sgd(param, grad, buffer)
    scalar = param.dtype.type
    grad = np.asarray(grad, order="C")
    _sgd_step(param.reshape(-1), grad.reshape(-1), buffer.reshape(-1), scalar(lr), scalar(momentum),
              scalar(1 - dampening), scalar(weight_decay), bool(nesterov), bool(maximize), bool(first_step))


@njit(parallel=True, cache=True)
def _sgd_step(param, grad, buffer, lr, momentum, undamped, weight_decay, nesterov, maximize, first_step):
    zero = param.dtype.type(0)
    for index in prange(param.size):
        g = -grad[index] if maximize else grad[index]
        if weight_decay != zero:
            g = g + weight_decay * param[index]
        if momentum != zero:
            if first_step:
                b = g
            else:
                b = momentum * buffer[index] + undamped * g
            buffer[index] = b
            g = g + momentum * b if nesterov else b
        param[index] = param[index] - lr * g
