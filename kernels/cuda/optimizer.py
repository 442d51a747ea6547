"""Optimizer kernels: launch wrappers for ``kernels/cuda/optimizer.cu`` (GPU or CPU
emulation). Same names, signatures and results as ``kernels/reference/optimizer.py``
(up to the FMA rounding that nvcc may use); one thread per element."""
import numpy as np

from ..reference.optimizer import _validate_compiled_sgd
from .runtime import CudaSource

_SOURCE = CudaSource("optimizer.cu")


def sgd_step(param, grad, buffer, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step):
    """One SGD update of ``param`` (and ``buffer`` when momentum != 0), in place."""
    _validate_compiled_sgd(param, grad, buffer)
    scalar = param.dtype.type
    _SOURCE.launch_per_element(
        "sgd_step", param.size,
        (param, grad, buffer, scalar(lr), scalar(momentum), scalar(1 - dampening), scalar(weight_decay),
         np.int32(nesterov), np.int32(maximize), np.int32(first_step), np.int64(param.size)),
    )
