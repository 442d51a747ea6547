"""Softmax, log-softmax and the fused softmax cross-entropy: the NumPy specification.

Every kernel of this family works on a 2-D array of ROWS independent rows of COLS
entries (for the losses, COLS = C classes). The op moves the softmax dim last and
flattens the others into rows before calling a kernel, so one row is one softmax.

Notation (per row r, dropping r):
    m        = max_c x[c]                        the row maximum
    s        = sum_c exp(x[c] - m)               the shifted sum, in [1, COLS]
    lse      = m + log(s)                        log-sum-exp of the row
    y[c]     = exp(x[c] - m) / s                 softmax
    logy[c]  = (x[c] - m) - log(s)               log-softmax

Subtracting m first keeps every exponent <= 0, so nothing overflows: a row of values
near 1e4 gives the same softmax as the same row shifted to near 0. A row of all -inf
gives NaN (m = -inf and -inf - (-inf) = NaN), as in PyTorch.

Cross-entropy with class-index targets t, class weights w (all ones when the user gave
none), W = sum_c w[c], label smoothing eps and C classes (PyTorch's definition):
    nll      = w[t] * (lse - x[t])
    smooth   = sum_c w[c] * (lse - x[c])
    loss     = (1 - eps) * nll + (eps / C) * smooth       (0 where t == ignore_index)
and its gradient with respect to x, for an upstream gradient g of the row's loss,
with p[c] = exp(x[c] - lse) the softmax:
    dx[c]    = g * ((1 - eps) * w[t] * (p[c] - [c == t]) + (eps / C) * (W * p[c] - w[c]))
i.e. "softmax minus one-hot", smoothed and weighted. Rows whose target is
ignore_index get loss 0 and gradient 0.

Preconditions (the op checks them before any kernel runs, and every implementation
checks them again with the ``_check_*`` functions below): COLS >= 1, shapes and dtypes
agree, and every target is ignore_index or a class in [0, C).
"""
import numbers

import numpy as np

from . import _arguments as args


def softmax_forward(x):
    """y[r, c] = exp(x[r, c] - m[r]) / sum_k exp(x[r, k] - m[r]) for x of shape (ROWS, COLS)."""
    _check_rows("softmax_forward", x)
    row_max = x.max(axis=1, keepdims=True)
    shifted_exp = np.exp(x - row_max)
    return shifted_exp / shifted_exp.sum(axis=1, keepdims=True)


def softmax_backward(y, dy):
    """dx[r, c] = y[r, c] * (dy[r, c] - sum_k dy[r, k] * y[r, k]), y the softmax output.

    The Jacobian of softmax is diag(y) - y y^T; multiplying it by dy gives this.
    """
    _check_rows("softmax_backward", y, "y", dy)
    row_dot = (dy * y).sum(axis=1, keepdims=True)
    return y * (dy - row_dot)


def log_softmax_forward(x):
    """y[r, c] = (x[r, c] - m[r]) - log(sum_k exp(x[r, k] - m[r]))."""
    _check_rows("log_softmax_forward", x)
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def log_softmax_backward(y, dy):
    """dx[r, c] = dy[r, c] - exp(y[r, c]) * sum_k dy[r, k], y the log-softmax output.

    d logy[k] / dx[c] = [k == c] - softmax[c], and softmax = exp(logy).
    """
    _check_rows("log_softmax_backward", y, "y", dy)
    row_sum = dy.sum(axis=1, keepdims=True)
    return dy - np.exp(y) * row_sum


def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing):
    """Per-row loss of the fused log-softmax + NLL (see the module docstring).

    x: (ROWS, C) logits; target: (ROWS,) int64 class indices; weight: (C,) class
    weights; ignore_index: int; label_smoothing: eps in [0, 1].
    Returns (loss, lse): both (ROWS,) in x's dtype; lse is what the backward needs to
    rebuild the softmax without storing it.
    """
    _check_cross_entropy("cross_entropy_forward", x, target, weight, ignore_index, label_smoothing)
    rows, num_classes = x.shape
    row_max = x.max(axis=1)
    log_sum = np.log(np.exp(x - row_max[:, None]).sum(axis=1))
    lse = row_max + log_sum

    ignored = target == ignore_index
    safe_target = np.where(ignored, 0, target)  # any valid class; those rows are zeroed
    x_target = x[np.arange(rows), safe_target]
    # lse - x[t] = log(s) + (m - x[t]): two non-negative terms, no cancellation.
    nll = weight[safe_target] * (log_sum + (row_max - x_target))
    eps = label_smoothing
    loss = nll
    if eps > 0:  # (not 0 * smooth: an infinite class weight would make it NaN)
        smooth = weight.sum() * log_sum + ((row_max[:, None] - x) * weight).sum(axis=1)
        loss = (1 - eps) * nll + (eps / num_classes) * smooth
    loss = np.where(ignored, 0, loss).astype(x.dtype, copy=False)
    return loss, lse.astype(x.dtype, copy=False)


def cross_entropy_backward(x, lse, target, weight, grad_loss, ignore_index, label_smoothing):
    """dx[r, c] = g[r] * ((1 - eps) w[t] (p[r, c] - [c == t]) + (eps / C) (W p[r, c] - w[c])).

    x, target, weight, ignore_index, label_smoothing as in cross_entropy_forward;
    lse: (ROWS,) from the forward; grad_loss: (ROWS,) upstream gradient g of each row's
    loss. Returns dx of x's shape and dtype.
    """
    _check_cross_entropy("cross_entropy_backward", x, target, weight, ignore_index, label_smoothing, lse, grad_loss)
    rows, num_classes = x.shape
    probs = np.exp(x - lse[:, None])
    ignored = target == ignore_index
    safe_target = np.where(ignored, 0, target)
    one_hot = np.zeros_like(x)
    one_hot[np.arange(rows), safe_target] = 1
    eps = label_smoothing
    dx = weight[safe_target][:, None] * (probs - one_hot)
    if eps > 0:  # (as in the forward)
        smooth_grad = weight.sum() * probs - weight[None, :]
        dx = (1 - eps) * dx + (eps / num_classes) * smooth_grad
    # where, not a product with 0: an ignored row passes exactly 0 back even when its
    # logits are NaN or infinite (as the Numba and CUDA kernels, and PyTorch)
    dx = np.where(ignored[:, None], 0, dx * grad_loss[:, None])
    return dx.astype(x.dtype, copy=False)


# ------------------------------------------------------------------ argument checks
def _check_rows(kernel, x, name="x", dy=None):
    """``x`` (named ``name``): (ROWS, COLS) float with COLS >= 1 (a row's maximum starts
    from its first entry); dy: x's shape and dtype. Returns (ROWS, COLS)."""
    rows, cols = args.float_array(kernel, name, x, ndim=2)
    args.integers(kernel, ROWS=rows)
    args.integers(kernel, minimum=1, COLS=cols)
    if dy is not None:
        args.float_array(kernel, "dy", dy, shape=x.shape, dtype=x.dtype)
    return rows, cols


def _check_cross_entropy(kernel, x, target, weight, ignore_index, label_smoothing, lse=None, grad_loss=None):
    """The arguments of the cross-entropy kernels; every target is a class in [0, C) or
    ignore_index (checked at each call: the kernels follow targets into x and weight)."""
    rows, num_classes = _check_rows(kernel, x)
    args.index_array(kernel, "target", target, shape=(rows,))
    args.float_array(kernel, "weight", weight, shape=(num_classes,))
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{kernel}: ignore_index must be an int, got {ignore_index!r}")
    if not (isinstance(label_smoothing, numbers.Real) and 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"{kernel}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    args.indices_within(kernel, "target", target, num_classes, allowed=int(ignore_index))
    if lse is not None:
        args.float_array(kernel, "lse", lse, shape=(rows,))
        args.float_array(kernel, "grad_loss", grad_loss, shape=(rows,))
    return rows, num_classes
