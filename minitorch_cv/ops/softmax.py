"""softmax and log_softmax over any dim, through the fused row kernels of the
``softmax`` kernel family.

    softmax(x)[i]     = exp(x[i] - m) / sum_k exp(x[k] - m),      m = max_k x[k]
    log_softmax(x)[i] = (x[i] - m) - log(sum_k exp(x[k] - m))
    backward, y the output:
        softmax:      dx = y * (dy - sum_k dy[k] y[k])
        log_softmax:  dx = dy - exp(y) * sum_k dy[k]

Subtracting the max keeps every exponent <= 0 (no overflow for logits near 1e4); a
slice of all -inf gives NaN, as in PyTorch.

Layout: every kernel of the family sees a C-contiguous (rows, cols) array. ``to_rows``
moves ``dim`` last and flattens the other dims into rows; that is a view when ``dim``
is already last in a contiguous input (the common case: classes of (N, C) logits,
keys of attention scores) and one copy otherwise. A kernel that strided over the inner
dims instead would save that copy but read a row with a stride (uncoalesced on the
GPU); the copy keeps every kernel a plain loop over contiguous rows. The output is
moved back with a view, so its shape is the input's.
"""
import warnings

from .. import backend, dtypes
from ..autograd import Function
from ..devices import device_of_array, namespace
from ..tensor import Tensor
from ._util import normalize_dim


def to_rows(array, dim):
    """``array`` with ``dim`` moved last, as a C-contiguous (rows, cols) array (copied
    only when needed), and the moved shape that ``from_rows`` needs to undo it."""
    xp = namespace(array)
    moved = xp.moveaxis(array, dim, -1) if array.ndim else array.reshape(1)
    cols = moved.shape[-1]
    rows = moved.size // cols if cols else 0
    return xp.ascontiguousarray(moved).reshape(rows, cols), moved.shape


def from_rows(rows_array, moved_shape, dim, ndim):
    """Undo ``to_rows``: the (rows, cols) result back in the input's shape (a view)."""
    out = rows_array.reshape(moved_shape)
    if ndim == 0:
        return out.reshape(())
    return namespace(out).moveaxis(out, -1, dim)


class Softmax(Function):
    """y = exp(x - m) / s; backward dx = y * (dy - sum(dy * y))."""

    @staticmethod
    def forward(ctx, x, dim):
        kernels = backend.SOFTMAX.on(device_of_array(x))
        return _forward_over_rows(ctx, x, dim, kernels.softmax_forward)

    @staticmethod
    def backward(ctx, grad):
        kernels = backend.SOFTMAX.on(device_of_array(grad))
        return _backward_over_rows(ctx, grad, kernels.softmax_backward), None


class LogSoftmax(Function):
    """y = (x - m) - log(s); backward dx = dy - exp(y) * sum(dy)."""

    @staticmethod
    def forward(ctx, x, dim):
        kernels = backend.SOFTMAX.on(device_of_array(x))
        return _forward_over_rows(ctx, x, dim, kernels.log_softmax_forward)

    @staticmethod
    def backward(ctx, grad):
        kernels = backend.SOFTMAX.on(device_of_array(grad))
        return _backward_over_rows(ctx, grad, kernels.log_softmax_backward), None


def _forward_over_rows(ctx, x, dim, kernel):
    """``kernel`` (y = kernel(rows)) applied to the rows of ``dim``; saves y for the backward."""
    ctx.dim, ctx.ndim = dim, x.ndim
    if x.size == 0:  # nothing to normalize (a kernel needs at least one column)
        ctx.save_for_backward()
        return namespace(x).empty_like(x)
    rows, ctx.moved_shape = to_rows(x, dim)
    y = kernel(rows)
    ctx.save_for_backward(y)
    return from_rows(y, ctx.moved_shape, dim, x.ndim)


def _backward_over_rows(ctx, grad, kernel):
    """dx = kernel(y, dy) on the rows of the saved output y, back in the input's shape."""
    if grad.size == 0:
        return namespace(grad).zeros_like(grad)
    (y,) = ctx.saved_tensors
    dy, _ = to_rows(grad, ctx.dim)
    dx = kernel(y, dy)
    return from_rows(dx, ctx.moved_shape, ctx.dim, ctx.ndim)


def _implicit_dim(name, ndim):
    """PyTorch's deprecated rule when ``dim`` is not given: 0 for 0-D, 1-D and 3-D
    inputs, 1 otherwise (with the same warning)."""
    warnings.warn(
        f"{name}: implicit dimension choice has been deprecated (as in PyTorch); "
        "change the call to include dim=X as an argument",
        UserWarning,
        stacklevel=4,  # the caller of softmax / log_softmax
    )
    return 0 if ndim in (0, 1, 3) else 1


def _apply(function, name, x, dim, dtype):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
    if dim is None:
        dim = _implicit_dim(name, x.ndim)
    dim = normalize_dim(dim, x.ndim)
    if dtype is not None:
        dtype = dtypes.resolve(dtype)
        if not dtypes.is_floating(dtype):
            raise TypeError(f"{name}: dtype must be a floating-point type, got {dtype}")
        x = x.to(dtype)  # cast before the op, as PyTorch does (differentiable)
    if not dtypes.is_floating(x.dtype):
        raise TypeError(
            f"{name}: expected a floating-point input, got dtype {x.dtype}; "
            "pass dtype=minitorch_cv.float32 or call .float()"
        )
    if x.dtype == dtypes.float16:
        # The kernels are built for float32 and float64: compute in float32.
        return function.apply(x.float(), dim).half()
    return function.apply(x, dim)


def softmax(input, dim=None, dtype=None):  # noqa: A002 - PyTorch's argument name
    """Softmax along ``dim``: exp(x - max) / sum(exp(x - max)), stable for any logits."""
    return _apply(Softmax, "softmax", input, dim, dtype)


def log_softmax(input, dim=None, dtype=None):  # noqa: A002
    """Log-softmax along ``dim``: (x - max) - log(sum(exp(x - max)))."""
    return _apply(LogSoftmax, "log_softmax", input, dim, dtype)
