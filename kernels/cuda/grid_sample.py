"""Launch wrappers of kernels/cuda/grid_sample.cu: the CUDA implementation of
"grid_sample".

Same names and signatures as kernels/reference/grid_sample.py (formulas there); the
comment block in grid_sample.cu gives the thread mapping (one thread per grid point).
Scalars are passed with the kernel's C types: ``long long`` <- np.int64, ``int`` <-
np.int32 (booleans as 0/1). The backward kernel ADDS into grad_x (atomicAdd), so
grad_x is allocated with zeros.
"""
import numpy as np

from minitorch_cv.devices import namespace

from .runtime import CudaSource, int32s

_SOURCE = CudaSource("grid_sample.cu")


def grid_sample_forward(x, grid, border, align_corners):
    N, C, H, W = x.shape
    OH, OW = grid.shape[1:3]
    out = namespace(x).empty((N, C, OH, OW), dtype=x.dtype)
    total = N * OH * OW
    _SOURCE.launch_per_element("grid_sample_forward", total, (
        x, grid, out, np.int64(total), *int32s(C, H, W, OH, OW, bool(border), bool(align_corners)),
    ))
    return out


def grid_sample_backward(grad_out, x, grid, border, align_corners):
    xp = namespace(x)
    N, C, H, W = x.shape
    OH, OW = grid.shape[1:3]
    grad_x = xp.zeros(x.shape, dtype=x.dtype)
    grad_grid = xp.empty(grid.shape, dtype=grid.dtype)
    total = N * OH * OW
    _SOURCE.launch_per_element("grid_sample_backward", total, (
        grad_out, x, grid, grad_x, grad_grid, np.int64(total),
        *int32s(C, H, W, OH, OW, bool(border), bool(align_corners)),
    ))
    return grad_x, grad_grid
