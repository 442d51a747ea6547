"""Optimizer kernels in plain NumPy: the specification of the ``optimizer`` family.

Every implementation (``kernels/cpu/optimizer.py``, ``kernels/cuda/optimizer.py``) exports
these names with these signatures and is tested against this file.

``sgd_step`` is PyTorch's SGD update of one parameter, in place, elementwise:

    g = -grad if maximize else grad
    g = g + weight_decay * param                                   (if weight_decay != 0)
    buffer = g                                                     (first step)
    buffer = momentum * buffer + (1 - dampening) * g               (later steps)     } if momentum != 0
    g = g + momentum * buffer  if nesterov  else  buffer                             }
    param = param - lr * g

param, grad and buffer (the momentum buffer, ignored when momentum == 0) have one shape
and one floating dtype. The scalars are applied in the arrays' dtype, one rounding per
operation, in the order above. The Numba and CUDA forms take float32 and float64 arrays,
with param and buffer C-contiguous (they write them in place through flat indices); this
NumPy form also takes float16 and strided views, and ``optim/sgd.py`` sends it the
parameters that the compiled forms do not take.

Why a kernel: the NumPy form makes about ten passes over each parameter (a temporary per
line) on one core; the Numba and CUDA kernels make one parallel pass, reading param, grad
and buffer once and writing param and buffer once.
"""
import numpy as np


def _validate_sgd(param, grad, buffer):
    """One shape and one floating dtype for the three arrays."""
    if param.dtype.kind != "f":
        raise TypeError(f"param: expected a floating dtype, got {param.dtype}")
    for name, array in (("grad", grad), ("buffer", buffer)):
        if array.shape != param.shape:
            raise ValueError(f"{name}: expected shape {param.shape} (that of param), got {array.shape}")
        if array.dtype != param.dtype:
            raise TypeError(f"{name}: expected dtype {param.dtype} (that of param), got {array.dtype}")


def _validate_compiled_sgd(param, grad, buffer):
    """What the Numba and CUDA forms take: float32/float64, param and buffer contiguous."""
    _validate_sgd(param, grad, buffer)
    if param.dtype not in (np.float32, np.float64):
        raise TypeError(f"param: expected float32 or float64, got {param.dtype}")
    for name, array in (("param", param), ("buffer", buffer)):
        if not array.flags.c_contiguous:
            raise ValueError(f"{name}: expected a C-contiguous array (it is updated in place)")


def sgd_step(param, grad, buffer, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step):
    """One SGD update of ``param`` (and of ``buffer`` when momentum != 0), in place; see
    the module docstring. ``first_step``: the buffer has no history yet (buffer = g)."""
    _validate_sgd(param, grad, buffer)
    scalar = param.dtype.type
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + scalar(weight_decay) * param
    if momentum != 0:
        if first_step:
            buffer[...] = g
        else:
            buffer *= scalar(momentum)
            buffer += scalar(1 - dampening) * g
        g = g + scalar(momentum) * buffer if nesterov else buffer
    param -= scalar(lr) * g
