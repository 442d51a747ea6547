"""Small helpers shared by the op files: operand checks, broadcasting, dims."""
import numbers

import numpy as np

from ..tensor import Tensor


def is_scalar(value):
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, Tensor)


def python_scalar(value):
    """NumPy scalars become Python numbers so that they combine with an array like a
    Python number does (NEP 50: a float32 array times 2.0 stays float32, while times
    np.float64(2.0) would become float64)."""
    return value.item() if isinstance(value, np.generic) else value


def binary_operands(name, a, b):
    """Validate the operands of a binary op: Tensors or Python numbers, at least one
    Tensor, and two Tensors must share device and dtype. Returns them, numbers as
    Python numbers."""
    for value, arg in ((a, "first"), (b, "second")):
        if not isinstance(value, Tensor) and not is_scalar(value):
            raise TypeError(
                f"{name}: the {arg} operand must be a Tensor or a number, "
                f"got {type(value).__name__}"
            )
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.device != b.device:
            raise RuntimeError(
                f"{name}: expected both tensors on the same device, got {a.device} "
                f"(shape {a.shape}) and {b.device} (shape {b.shape})"
            )
        if a.dtype != b.dtype:
            raise TypeError(
                f"{name}: expected both tensors to have the same dtype, got {a.dtype} "
                f"(shape {a.shape}) and {b.dtype} (shape {b.shape}); convert one with .to()"
            )
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(
                f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together "
                "(each dim, aligned from the right, must match or be 1)"
            ) from None
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{name}: expected at least one Tensor operand")
    return python_scalar(a), python_scalar(b)


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up.

    Broadcasting prepends dims and stretches size-1 dims, so the gradient is summed
    over the prepended dims and, keeping them, over the stretched ones.
    """
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def normalize_dim(dim, ndim, name="dim"):
    """A possibly negative dim as an index in ``range(ndim)`` (0-d tensors accept 0/-1)."""
    bound = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name}: expected an integer, got {dim!r}")
    if not -bound <= dim < bound:
        raise IndexError(f"{name}: expected a value in [{-bound}, {bound - 1}], got {dim}")
    return int(dim) % bound


def normalize_dims(dim, ndim):
    """``None`` or ``()`` means every dim; an int or a tuple of ints otherwise.
    Returns a sorted tuple of non-negative dims, rejecting repeats."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    normalized = tuple(sorted(normalize_dim(d, ndim) for d in dims))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"dim: dims must be unique, got {dim!r}")
    if ndim == 0:
        return ()
    return normalized


def expand_reduced(grad, shape, dims, keepdim):
    """Put the reduced dims back (size 1) so that ``grad`` broadcasts against ``shape``."""
    if not keepdim:
        for d in dims:
            grad = grad.reshape(grad.shape[:d] + (1,) + grad.shape[d:])
    return grad
