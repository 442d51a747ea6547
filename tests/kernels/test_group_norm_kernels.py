"""Every implementation of the ``group_norm`` kernel family (Numba; CUDA through the CPU
emulation; CUDA on a GPU when there is one) against kernels/reference/group_norm.py, in
float32 and float64, over drawn shapes: one group, more values per group than a CUDA
block has threads (the strided loops)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import group_norm as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS
from tests.kernels.norm_testing import EPS, check_kernel, draw_values, lengths

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_group_norm_kernels(implementation, dtype, data):
    N = data.draw(st.integers(1, 3), label="N")
    G = data.draw(st.integers(1, 3), label="G")
    C = G * data.draw(st.integers(1, 3), label="C / G")
    S = data.draw(lengths, label="S")
    x = draw_values(data.draw, (N, C, S), dtype)
    dy = draw_values(data.draw, (N, C, S), dtype, distinct=False)
    affine = data.draw(st.booleans(), label="affine")
    weight = draw_values(data.draw, (C,), dtype, distinct=False) if affine else None
    bias = draw_values(data.draw, (C,), dtype, distinct=False) if affine else None

    forward = reference.group_norm_forward(x, weight, bias, G, EPS)
    check_kernel(implementation, "group_norm", "group_norm_forward", (x, weight, bias, G, EPS), forward, dtype)
    _, mean, rstd = forward
    sums = reference.group_norm_backward_reduce(dy, x, mean, rstd, G)
    check_kernel(implementation, "group_norm", "group_norm_backward_reduce", (dy, x, mean, rstd, G), sums, dtype)
    check_kernel(implementation, "group_norm", "group_norm_backward_input", (dy, x, mean, rstd, weight, *sums, G),
           reference.group_norm_backward_input(dy, x, mean, rstd, weight, *sums, G), dtype)
