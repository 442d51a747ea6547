"""Every implementation of the ``layer_norm`` kernel family (Numba; CUDA through the CPU
emulation; CUDA on a GPU when there is one) against kernels/reference/layer_norm.py, in
float32 and float64, over drawn shapes: one row, more values per row than a CUDA
block has threads (the strided loops)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import layer_norm as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS
from tests.kernels.norm_testing import EPS, check_kernel, draw_values, lengths

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_layer_norm_kernels(implementation, dtype, data):
    R = data.draw(st.integers(1, 5), label="R")
    D = data.draw(lengths, label="D")
    x = draw_values(data.draw, (R, D), dtype)
    dy = draw_values(data.draw, (R, D), dtype, distinct=False)
    affine = data.draw(st.booleans(), label="affine")
    weight = draw_values(data.draw, (D,), dtype, distinct=False) if affine else None
    bias = draw_values(data.draw, (D,), dtype, distinct=False) if affine else None

    forward = reference.layer_norm_forward(x, weight, bias, EPS)
    check_kernel(implementation, "layer_norm", "layer_norm_forward", (x, weight, bias, EPS), forward, dtype)
    _, mean, rstd = forward
    check_kernel(implementation, "layer_norm", "layer_norm_backward_input", (dy, x, mean, rstd, weight),
           reference.layer_norm_backward_input(dy, x, mean, rstd, weight), dtype)
    check_kernel(implementation, "layer_norm", "layer_norm_backward_affine", (dy, x, mean, rstd),
           reference.layer_norm_backward_affine(dy, x, mean, rstd), dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
def test_non_contiguous_arrays_are_accepted(implementation):
    # The kernels read raw memory: the wrappers must make strided inputs contiguous.
    x = np.random.default_rng(3).standard_normal((6, 5)).T  # (5, 6), Fortran order
    check_kernel(implementation, "layer_norm", "layer_norm_forward", (x, None, None, EPS),
           reference.layer_norm_forward(np.ascontiguousarray(x), None, None, EPS), np.float64)
