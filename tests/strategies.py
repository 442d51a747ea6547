"""Hypothesis strategies shared by the tests.

- ``shapes``: 0-4 dims with size-1 dims drawn often (they are where broadcasting and
  reductions go wrong);
- ``broadcastable_to``: a second shape that broadcasts against a first one;
- ``arrays``: float values, optionally distinct (no ties for max/min) and kept away
  from kinks (relu at 0, abs at 0, clamp at its bounds) instead of loosening tolerances;
- ``layouts`` + ``with_layout``: the same values in a non-contiguous layout (a
  permuted buffer, or every other element of a larger buffer), so every op is also
  checked on strided views (minitorch's trick).
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minitorch_cv as mt


@st.composite
def shapes(draw, min_dims=0, max_dims=4, min_side=1, max_side=4):
    ndim = draw(st.integers(min_dims, max_dims))
    side = st.one_of(st.just(1), st.integers(min_side, max_side))
    return tuple(draw(side) for _ in range(ndim))


@st.composite
def broadcastable_to(draw, shape):
    """A shape that broadcasts with ``shape`` to exactly ``shape``: some leading dims
    dropped, some of the rest replaced by 1."""
    keep = draw(st.integers(0, len(shape)))
    tail = shape[len(shape) - keep :]
    return tuple(1 if draw(st.booleans()) else size for size in tail)


@st.composite
def arrays(draw, shape, dtype=np.float64, low=-2.0, high=2.0, distinct=False, kinks=(), margin=0.05):
    """Values in [low, high]. ``distinct`` makes every value unique with a spacing far
    larger than a finite-difference step (no ties in max/min); ``kinks`` lists points
    every value stays ``margin`` away from."""
    size = int(np.prod(shape))
    if distinct:
        # A random permutation of well-separated levels.
        levels = np.linspace(low, high, max(size, 2))
        order = draw(st.permutations(range(size)))
        values = levels[np.asarray(order, dtype=np.int64)] if size else np.zeros(0)
    else:
        element = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
        for point in kinks:
            element = element.filter(lambda v, p=point: abs(v - p) > margin)
        values = draw(hnp.arrays(np.float64, (size,), elements=element))
    for point in kinks:
        near = np.abs(values - point) <= margin
        values = np.where(near, point + np.where(values >= point, 2, -2) * margin, values)
    return values.reshape(shape).astype(dtype)


def layouts():
    """'contiguous', 'permuted' (a transposed buffer) or 'strided' (a step-2 slice)."""
    return st.sampled_from(["contiguous", "permuted", "strided"])


def with_layout(values, layout):
    """The same values as ``values`` in the requested memory layout (a NumPy array)."""
    if layout == "contiguous" or values.ndim == 0:
        return values.copy(order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    if layout == "permuted":
        order = tuple(reversed(range(values.ndim)))
        buffer = np.ascontiguousarray(values.transpose(order))
        return buffer.transpose(order)  # back to the right shape, reversed strides
    buffer = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), dtype=values.dtype)
    buffer[..., ::2] = values
    return buffer[..., ::2]


def make_tensor(values, device="cpu", layout="contiguous", requires_grad=False):
    """A leaf tensor with the values in the requested layout (on the CPU the Tensor
    wraps the strided array itself; on the GPU the layout is reproduced there)."""
    array = with_layout(values, layout)
    if device != "cpu":
        from minitorch_cv.devices import to_device

        array = to_device(array, device)
        if layout == "permuted" and array.ndim > 1:
            order = tuple(reversed(range(array.ndim)))
            array = array.transpose(order).copy().transpose(order)
    tensor = mt.Tensor(array)
    tensor.requires_grad = requires_grad
    return tensor
