"""Hypothesis strategies for the pooling and resampling tests: window geometries that
are valid by construction (non-square kernels, strides, paddings up to half the
kernel, dilations, ceil_mode, non-square images), batch and channel counts that
include 1, and input values with or without ties."""
import numpy as np
from hypothesis import strategies as st

from tests.strategies import arrays


@st.composite
def pool_windows(draw, dilation=True, max_kernel=4, max_stride=3, max_side=9):
    """A dict with kernel, stride, padding, dilation (pairs), ceil_mode and the input
    size (H, W), such that the pooled output is not empty: H + 2*PH must hold at least
    one dilated window, DH*(KH-1) + 1 rows (and the same for W)."""
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilations = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    size = []
    for K, P, D in zip(kernel, padding, dilations):
        smallest = max(1, D * (K - 1) + 1 - 2 * P)
        size.append(draw(st.integers(smallest, max(smallest, max_side))))
    return {
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilations,
        "ceil_mode": draw(st.booleans()),
        "size": tuple(size),
    }


def batch_and_channels():
    """(N, C) with 1 drawn often."""
    return st.tuples(st.integers(1, 2), st.integers(1, 3))


@st.composite
def pool_inputs(draw, shape, dtype=np.float64, ties=None):
    """Input values of ``shape``: distinct and well separated (no ties: gradients are
    defined), or, when ``ties`` is drawn True, a few small integers repeated (the tie
    rule of max pooling is exercised)."""
    if ties is None:
        ties = draw(st.booleans(), label="ties")
    if ties:
        levels = draw(st.lists(st.integers(0, 3), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        return np.asarray(levels, dtype=dtype).reshape(shape)
    return draw(arrays(shape, dtype=dtype, distinct=True))
