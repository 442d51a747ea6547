"""Activation kernels in plain NumPy: the specification of the ``activation`` family.

Every implementation (``kernels/cpu/activation.py``, ``kernels/cuda/activation.py``)
exports these names with these signatures and is tested against this file.

    relu            y[i]  = x[i]     if x[i] > 0    else 0
    relu_backward   dx[i] = grad[i]  if out[i] > 0  else 0      (out = relu(x))

Elementwise over arrays of any shape, float32 or float64, the result in the input's dtype.
PyTorch's conventions: relu keeps a NaN (NaN > 0 is false, but NaN is not below 0 either:
torch.relu(nan) is nan), and the gradient at 0 is 0; relu_backward selects, so an
infinite or NaN grad[i] where out[i] == 0 gives 0, as torch's threshold_backward does
(a product grad * (out > 0) would give NaN there).

Why kernels for two one-liners: ReLU runs after almost every convolution, on the
largest arrays of a step. NumPy's maximum is a single-threaded pass, and grad * (out > 0)
is two passes and a temporary mask; each Numba (or CUDA) kernel is one parallel pass.
"""
import numpy as np


def _validate_floats(**arrays):
    """Each array must be float32 or float64, all of the first one's shape and dtype."""
    (first_name, first), *others = arrays.items()
    if first.dtype not in (np.float32, np.float64):
        raise TypeError(f"{first_name}: expected float32 or float64, got {first.dtype}")
    for name, array in others:
        if array.shape != first.shape:
            raise ValueError(f"{name}: expected shape {first.shape} (that of {first_name}), got {array.shape}")
        if array.dtype != first.dtype:
            raise TypeError(f"{name}: expected dtype {first.dtype} (that of {first_name}), got {array.dtype}")


def relu(x):
    """y = x where x > 0, else 0; a NaN stays NaN."""
    _validate_floats(x=x)
    return np.where(x <= 0, np.zeros((), x.dtype), x)


def relu_backward(grad, out):
    """dx = grad where out > 0, else 0 (a select, not a product)."""
    _validate_floats(grad=grad, out=out)
    return np.where(out > 0, grad, np.zeros((), grad.dtype))
