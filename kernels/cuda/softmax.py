"""Softmax, log-softmax and the fused softmax cross-entropy: launchers of softmax.cu.

Same names, signatures and results as kernels/reference/softmax.py. Each function
allocates its outputs, launches one block of BLOCK threads per row (grid = (ROWS,),
see the thread mapping at the top of softmax.cu) and returns the outputs. The arrays
are NumPy on the CPU (the launcher runs the CUDA C through its emulation executor) or
CuPy on the GPU; scalars are passed with the exact NumPy type of their C parameter.
"""
import numpy as np

from minitorch_cv.devices import namespace

from .runtime import BLOCK, CudaSource

_SOURCE = CudaSource("softmax.cu")

# gridDim.x is at most 2^31 - 1 blocks, one per row; cols is a C int.
_INT32_MAX = 2**31 - 1


def _rows_and_cols(x):
    rows, cols = x.shape
    if rows > _INT32_MAX or cols > _INT32_MAX:
        raise ValueError(f"softmax kernels: at most {_INT32_MAX} rows and columns, got shape {x.shape}")
    return rows, cols


def _launch(name, rows, args):
    if rows == 0:
        return  # an empty grid is not a valid launch; there is nothing to compute
    _SOURCE.launch(name, grid=(rows,), block=(BLOCK,), args=args)


def _row_kernel(name, x):
    xp = namespace(x)
    x = xp.ascontiguousarray(x)
    rows, cols = _rows_and_cols(x)
    y = xp.empty(x.shape, dtype=x.dtype)
    _launch(name, rows, (x, y, np.int64(rows), np.int32(cols)))
    return y


def _row_backward(name, y, dy):
    xp = namespace(y)
    y, dy = xp.ascontiguousarray(y), xp.ascontiguousarray(dy)
    rows, cols = _rows_and_cols(y)
    dx = xp.empty(y.shape, dtype=y.dtype)
    _launch(name, rows, (y, dy, dx, np.int64(rows), np.int32(cols)))
    return dx


def softmax_forward(x):
    """y[r, c] = exp(x[r, c] - m[r]) / s[r]; block r computes row r."""
    return _row_kernel("softmax_forward", x)


def softmax_backward(y, dy):
    """dx[r, c] = y[r, c] * (dy[r, c] - sum_k dy[r, k] y[r, k]); block r computes row r."""
    return _row_backward("softmax_backward", y, dy)


def log_softmax_forward(x):
    """y[r, c] = (x[r, c] - m[r]) - log(s[r]); block r computes row r."""
    return _row_kernel("log_softmax_forward", x)


def log_softmax_backward(y, dy):
    """dx[r, c] = dy[r, c] - exp(y[r, c]) * sum_k dy[r, k]; block r computes row r."""
    return _row_backward("log_softmax_backward", y, dy)


def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing):
    """Per-row (loss, lse) of the fused log-softmax + NLL; block r computes row r."""
    xp = namespace(x)
    x = xp.ascontiguousarray(x)
    target = xp.ascontiguousarray(target, dtype=np.int64)
    weight = xp.ascontiguousarray(weight, dtype=x.dtype)
    rows, cols = _rows_and_cols(x)
    loss = xp.empty(rows, dtype=x.dtype)
    lse = xp.empty(rows, dtype=x.dtype)
    scalar = x.dtype.type
    _launch(
        "cross_entropy_forward",
        rows,
        (x, target, weight, loss, lse, np.int64(rows), np.int32(cols), np.int64(ignore_index),
         scalar(label_smoothing)),
    )
    return loss, lse


def cross_entropy_backward(x, lse, target, weight, grad_loss, ignore_index, label_smoothing):
    """dx = g ((1 - eps) w[t] (p - onehot) + (eps / C) (W p - w)); block r computes row r."""
    xp = namespace(x)
    x = xp.ascontiguousarray(x)
    lse = xp.ascontiguousarray(lse, dtype=x.dtype)
    target = xp.ascontiguousarray(target, dtype=np.int64)
    weight = xp.ascontiguousarray(weight, dtype=x.dtype)
    grad_loss = xp.ascontiguousarray(grad_loss, dtype=x.dtype)
    rows, cols = _rows_and_cols(x)
    dx = xp.empty(x.shape, dtype=x.dtype)
    scalar = x.dtype.type
    _launch(
        "cross_entropy_backward",
        rows,
        (x, lse, target, weight, grad_loss, dx, np.int64(rows), np.int32(cols), np.int64(ignore_index),
         scalar(label_smoothing)),
    )
    return dx
