"""Normalization kernels: launch wrappers for ``kernels/cuda/norm.cu``.

Same names, signatures and formulas as ``kernels/reference/norm.py``. The same
functions serve CuPy arrays (the GPU) and NumPy arrays (the CPU emulation of CUDA):
every launch goes through ``launcher.CudaSource``, which makes inputs contiguous and
checks that each scalar has the exact NumPy type of its C parameter.

Reductions run one block of NORM_BLOCK threads per row, group or channel (the
comment above each kernel in norm.cu says how the threads split the work);
elementwise kernels run one thread per element in blocks of BLOCK threads. The tiny
per-channel coefficient arrays of the backward passes are computed here with the
array module of the inputs, in float64, and cast to the input dtype.
"""
import numpy as np

from minitorch_cv.devices import namespace

from .launcher import CudaSource

_SOURCE = CudaSource("norm.cu")
NORM_BLOCK = 256  # must equal NORM_BLOCK in norm.cu


def _ones_if_none(array, size, like):
    xp = namespace(like)
    return xp.ones(size, like.dtype) if array is None else xp.asarray(array, dtype=like.dtype)


def _zeros_if_none(array, size, like):
    xp = namespace(like)
    return xp.zeros(size, like.dtype) if array is None else xp.asarray(array, dtype=like.dtype)


def _same_dtype(array, like):
    return namespace(like).asarray(array, dtype=like.dtype)


# ----------------------------------------------------------------------- layer norm


def layer_norm_forward(x, weight, bias, eps):
    """One block per row r of x (R, D); see layer_norm_forward in norm.cu."""
    xp = namespace(x)
    R, D = x.shape
    y = xp.empty((R, D), x.dtype)
    mean = xp.empty(R, x.dtype)
    rstd = xp.empty(R, x.dtype)
    if R == 0:
        return y, mean, rstd
    _SOURCE.launch(
        "layer_norm_forward",
        grid=(R,),
        block=(NORM_BLOCK,),
        args=(x, _ones_if_none(weight, D, x), _zeros_if_none(bias, D, x), y, mean, rstd,
              np.int64(R), np.int64(D), x.dtype.type(eps)),
    )
    return y, mean, rstd


def layer_norm_backward_input(dy, x, mean, rstd, weight):
    """One block per row; see layer_norm_backward_input in norm.cu."""
    xp = namespace(x)
    R, D = x.shape
    dx = xp.empty((R, D), x.dtype)
    if R == 0:
        return dx
    _SOURCE.launch(
        "layer_norm_backward_input",
        grid=(R,),
        block=(NORM_BLOCK,),
        args=(_same_dtype(dy, x), x, _same_dtype(mean, x), _same_dtype(rstd, x),
              _ones_if_none(weight, D, x), dx, np.int64(R), np.int64(D)),
    )
    return dx


def layer_norm_backward_affine(dy, x, mean, rstd):
    """One thread per column j; see layer_norm_backward_affine in norm.cu."""
    xp = namespace(x)
    R, D = x.shape
    dweight = xp.empty(D, x.dtype)
    dbias = xp.empty(D, x.dtype)
    _SOURCE.launch_per_element(
        "layer_norm_backward_affine", D,
        (_same_dtype(dy, x), x, _same_dtype(mean, x), _same_dtype(rstd, x), dweight, dbias,
         np.int64(R), np.int64(D)),
    )
    return dweight, dbias


# ----------------------------------------------------------------------- group norm


def group_norm_forward(x, weight, bias, G, eps):
    """One block per group (n, g) of x (N, C, S); see group_norm_forward in norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    y = xp.empty((N, C, S), x.dtype)
    mean = xp.empty((N, G), x.dtype)
    rstd = xp.empty((N, G), x.dtype)
    if N * G == 0:
        return y, mean, rstd
    _SOURCE.launch(
        "group_norm_forward",
        grid=(N * G,),
        block=(NORM_BLOCK,),
        args=(x, _ones_if_none(weight, C, x), _zeros_if_none(bias, C, x), y, mean, rstd,
              np.int64(N), np.int32(C), np.int64(S), np.int32(G), x.dtype.type(eps)),
    )
    return y, mean, rstd


def group_norm_backward_reduce(dy, x, mean, rstd, G):
    """One block per (n, c); see group_norm_backward_reduce in norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    sum_dy = xp.empty((N, C), x.dtype)
    sum_dy_xhat = xp.empty((N, C), x.dtype)
    if N * C == 0:
        return sum_dy, sum_dy_xhat
    _SOURCE.launch(
        "group_norm_backward_reduce",
        grid=(N * C,),
        block=(NORM_BLOCK,),
        args=(_same_dtype(dy, x), x, _same_dtype(mean, x), _same_dtype(rstd, x), sum_dy, sum_dy_xhat,
              np.int64(N), np.int32(C), np.int64(S), np.int32(G)),
    )
    return sum_dy, sum_dy_xhat


def group_norm_backward_input(dy, x, mean, rstd, weight, sum_dy, sum_dy_xhat, G):
    """dx = A dy - B (x - mean[n, g]) - K with per-(n, c) coefficients A = rstd weight[c],
    B = rstd^2 b[n, g], K = rstd a[n, g] (a, b: the group means of g and g * xhat, see
    the reference); one thread per element (rowwise_backward_input in norm.cu)."""
    xp = namespace(x)
    N, C, S = x.shape
    CG = C // G
    w = xp.ones(C) if weight is None else weight.astype(np.float64)
    a = (w * sum_dy).reshape(N, G, CG).sum(axis=2) / (CG * S)
    b = (w * sum_dy_xhat).reshape(N, G, CG).sum(axis=2) / (CG * S)
    r = rstd.astype(np.float64)
    A = xp.repeat(r, CG, axis=1) * w
    B = xp.repeat(r * r * b, CG, axis=1)
    K = xp.repeat(r * a, CG, axis=1)
    mean_nc = xp.repeat(mean, CG, axis=1)
    return _rowwise_backward_input(dy, x, mean_nc, A, B, K, N * C)


def _rowwise_backward_input(dy, x, mean, A, B, K, P):
    xp = namespace(x)
    N, C, S = x.shape
    dx = xp.empty((N, C, S), x.dtype)
    total = dx.size
    coefficients = [_same_dtype(v, x).reshape(-1) for v in (mean, A, B, K)]
    _SOURCE.launch_per_element(
        "rowwise_backward_input", total,
        (_same_dtype(dy, x), x, *coefficients, dx, np.int64(total), np.int64(S), np.int64(P)),
    )
    return dx


# ----------------------------------------------------------------------- batch norm


def batch_norm_backward_reduce(dy, x, mean, invstd):
    """One block per channel c; see batch_norm_backward_reduce in norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    sum_dy = xp.empty(C, x.dtype)
    sum_dy_xhat = xp.empty(C, x.dtype)
    if C == 0:
        return sum_dy, sum_dy_xhat
    _SOURCE.launch(
        "batch_norm_backward_reduce",
        grid=(C,),
        block=(NORM_BLOCK,),
        args=(_same_dtype(dy, x), x, _same_dtype(mean, x), _same_dtype(invstd, x), sum_dy, sum_dy_xhat,
              np.int64(N), np.int32(C), np.int64(S)),
    )
    return sum_dy, sum_dy_xhat


def batch_norm_backward_input(dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat):
    """dx = A dy - B (x - mean[c]) - K with per-channel A = weight invstd,
    B = A invstd sum_dy_xhat / M, K = A sum_dy / M, M = N S; one thread per element
    (rowwise_backward_input in norm.cu)."""
    xp = namespace(x)
    N, C, S = x.shape
    M = N * S
    w = xp.ones(C) if weight is None else weight.astype(np.float64)
    inv = invstd.astype(np.float64)
    A = w * inv
    B = A * inv * sum_dy_xhat / M
    K = A * sum_dy / M
    return _rowwise_backward_input(dy, x, mean, A, B, K, C)


# ------------------------------------------------------------- local response norm


def lrn_forward(x, size, alpha, beta, k):
    """One thread per element of x (N, C, S); see lrn_forward in norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    y = xp.empty((N, C, S), x.dtype)
    scale = xp.empty((N, C, S), x.dtype)
    _SOURCE.launch_per_element(
        "lrn_forward", y.size,
        (x, y, scale, np.int64(N), np.int32(C), np.int64(S), np.int32(size),
         x.dtype.type(alpha), x.dtype.type(beta), x.dtype.type(k)),
    )
    return y, scale


def lrn_backward(dy, x, y, scale, size, alpha, beta):
    """One thread per element of dx; see lrn_backward in norm.cu."""
    xp = namespace(x)
    N, C, S = x.shape
    dx = xp.empty((N, C, S), x.dtype)
    _SOURCE.launch_per_element(
        "lrn_backward", dx.size,
        (_same_dtype(dy, x), x, _same_dtype(y, x), _same_dtype(scale, x), dx,
         np.int64(N), np.int32(C), np.int64(S), np.int32(size),
         x.dtype.type(alpha), x.dtype.type(beta)),
    )
    return dx
