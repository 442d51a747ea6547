"""Helpers shared by the tests of the normalization kernel families (layer_norm,
group_norm, batch_norm, local_response_norm): drawn values and the comparison of one
implementation against the reference."""
import numpy as np
from hypothesis import strategies as st

from tests.helpers import assert_close, call_kernel

EPS = 1e-5

# Row lengths and per-channel counts: small ones, and 300 > the 256 threads of a block.
lengths = st.one_of(st.integers(1, 12), st.just(300))


def draw_values(draw, shape, dtype, distinct=True):
    """Values in [-2, 2] from a drawn seed (arrays here reach thousands of elements, too
    many to draw one by one). Distinct values, a shuffled evenly spaced grid, keep every
    row's variance well above eps (see test_layer_norm)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    size = int(np.prod(shape))
    if distinct:
        values = rng.permutation(np.linspace(-2.0, 2.0, max(size, 2)))[:size]
    else:
        values = rng.uniform(-2.0, 2.0, size)
    return values.reshape(shape).astype(dtype)


def check_kernel(implementation, family, name, args, expected, dtype):
    """Kernel ``name`` of ``family`` run by ``implementation`` on ``args`` gives
    ``expected`` (an array or a tuple of arrays): same shapes, dtypes and values."""
    actual = call_kernel(implementation, family, name, *args)
    if not isinstance(expected, tuple):
        actual, expected = (actual,), (expected,)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.shape == e.shape and a.dtype == e.dtype, (name, a.shape, e.shape, a.dtype, e.dtype)
        assert_close(a, e, dtype=dtype)
