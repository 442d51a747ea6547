"""Every implementation of the ``local_response_norm`` kernel family (Numba; CUDA through the CPU
emulation; CUDA on a GPU when there is one) against kernels/reference/local_response_norm.py, in
float32 and float64, over drawn shapes, window sizes beyond C."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import local_response_norm as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS
from tests.kernels.norm_testing import check_kernel, draw_values

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_lrn_kernels(implementation, dtype, data):
    N = data.draw(st.integers(1, 2), label="N")
    C = data.draw(st.integers(1, 7), label="C")
    S = data.draw(st.integers(1, 6), label="S")
    size = data.draw(st.integers(1, 8), label="size")
    alpha, beta, k = data.draw(st.sampled_from([(1e-4, 0.75, 1.0), (0.5, 0.5, 2.0), (1.0, 1.0, 0.5)]))
    x = draw_values(data.draw, (N, C, S), dtype, distinct=False)
    dy = draw_values(data.draw, (N, C, S), dtype, distinct=False)

    forward = reference.lrn_forward(x, size, alpha, beta, k)
    check_kernel(implementation, "local_response_norm", "lrn_forward", (x, size, alpha, beta, k), forward, dtype)
    y, scale = forward
    check_kernel(implementation, "local_response_norm", "lrn_backward", (dy, x, y, scale, size, alpha, beta),
           reference.lrn_backward(dy, x, y, scale, size, alpha, beta), dtype)
