"""Softmax, log-softmax and the fused softmax cross-entropy: Numba CPU kernels.

Same names, signatures and formulas as kernels/reference/softmax.py (read its module
docstring for the notation m, s, lse and the cross-entropy formulas).

Iteration mapping: every loop function (``_softmax_forward`` and its siblings at the
bottom) has one ``prange`` loop over the ROWS rows. Rows are
independent (each is its own softmax), so no two iterations write the same element and
no reduction crosses iterations; a row is COLS contiguous values, so one core walks it
with unit stride. The CUDA twin (kernels/cuda/softmax.cu) gives each row to one block:
``row`` here is ``blockIdx.x`` there, and the inner ``for col in range(cols)`` loops
are the block-strided ``for (col = threadIdx.x; col < cols; col += blockDim.x)`` loops
whose partial results the block then reduces in shared memory. Variable names match.

The row reductions (max, sums) run sequentially inside one iteration; the sums
accumulate in float64 (Numba's float literals), then the result is stored in x's
dtype.

Threads: a parallel region wakes Numba's worker threads, which costs tens of
microseconds on an idle machine and milliseconds on one whose cores are shared
(measured: a (128, 1000) cross-entropy forward took 0.8 ms on one thread and a median
of 20 ms on two, on a busy 2-core machine). So each public function below runs its
``prange`` loop on the calling thread alone when the array has fewer than
_PARALLEL_MIN_ELEMENTS entries (about a millisecond of work), like PyTorch's grain size.

Preconditions (checked by the op, not here): C-contiguous arrays, COLS >= 1, every
target is ignore_index or in [0, C). Each loop starts its max from the row's first
entry, which exists because COLS >= 1.
"""
import contextlib
import math

import numba
import numpy as np
from numba import njit, prange

_PARALLEL_MIN_ELEMENTS = 1 << 18


@contextlib.contextmanager
def _threads_for(num_elements):
    """One thread for small arrays, Numba's thread pool otherwise (see above)."""
    if num_elements >= _PARALLEL_MIN_ELEMENTS:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def softmax_forward(x):
    """y[r, c] = exp(x[r, c] - m[r]) / s[r] (see _softmax_forward)."""
    with _threads_for(x.size):
        return _softmax_forward(x)


def softmax_backward(y, dy):
    """dx[r, c] = y[r, c] * (dy[r, c] - sum_k dy[r, k] y[r, k]) (see _softmax_backward)."""
    with _threads_for(y.size):
        return _softmax_backward(y, dy)


def log_softmax_forward(x):
    """y[r, c] = (x[r, c] - m[r]) - log(s[r]) (see _log_softmax_forward)."""
    with _threads_for(x.size):
        return _log_softmax_forward(x)


def log_softmax_backward(y, dy):
    """dx[r, c] = dy[r, c] - exp(y[r, c]) * sum_k dy[r, k] (see _log_softmax_backward)."""
    with _threads_for(y.size):
        return _log_softmax_backward(y, dy)


def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing):
    """Per-row (loss, lse) of the fused log-softmax + NLL (see _cross_entropy_forward)."""
    with _threads_for(x.size):
        return _cross_entropy_forward(x, target, weight, ignore_index, label_smoothing)


def cross_entropy_backward(x, lse, target, weight, grad_loss, ignore_index, label_smoothing):
    """dx = g ((1 - eps) w[t] (p - onehot) + (eps / C) (W p - w)) (see _cross_entropy_backward)."""
    with _threads_for(x.size):
        return _cross_entropy_backward(x, lse, target, weight, grad_loss, ignore_index, label_smoothing)


# ------------------------------------------------------------------ the loops


@njit(parallel=True, cache=True)
def _softmax_forward(x):
    """y[r, c] = exp(x[r, c] - m[r]) / s[r]; prange over rows r."""
    rows, cols = x.shape
    y = np.empty_like(x)
    for row in prange(rows):
        row_max = x[row, 0]
        for col in range(cols):
            if x[row, col] > row_max:
                row_max = x[row, col]
        row_sum = 0.0
        for col in range(cols):
            shifted_exp = math.exp(x[row, col] - row_max)
            y[row, col] = shifted_exp
            row_sum += shifted_exp
        inverse_sum = 1.0 / row_sum
        for col in range(cols):
            y[row, col] = y[row, col] * inverse_sum
    return y


@njit(parallel=True, cache=True)
def _softmax_backward(y, dy):
    """dx[r, c] = y[r, c] * (dy[r, c] - sum_k dy[r, k] y[r, k]); prange over rows r."""
    rows, cols = y.shape
    dx = np.empty_like(y)
    for row in prange(rows):
        row_dot = 0.0
        for col in range(cols):
            row_dot += dy[row, col] * y[row, col]
        for col in range(cols):
            dx[row, col] = y[row, col] * (dy[row, col] - row_dot)
    return dx


@njit(parallel=True, cache=True)
def _log_softmax_forward(x):
    """y[r, c] = (x[r, c] - m[r]) - log(s[r]); prange over rows r."""
    rows, cols = x.shape
    y = np.empty_like(x)
    for row in prange(rows):
        row_max = x[row, 0]
        for col in range(cols):
            if x[row, col] > row_max:
                row_max = x[row, col]
        row_sum = 0.0
        for col in range(cols):
            row_sum += math.exp(x[row, col] - row_max)
        log_sum = math.log(row_sum)
        for col in range(cols):
            y[row, col] = (x[row, col] - row_max) - log_sum
    return y


@njit(parallel=True, cache=True)
def _log_softmax_backward(y, dy):
    """dx[r, c] = dy[r, c] - exp(y[r, c]) * sum_k dy[r, k]; prange over rows r."""
    rows, cols = y.shape
    dx = np.empty_like(y)
    for row in prange(rows):
        row_sum = 0.0
        for col in range(cols):
            row_sum += dy[row, col]
        for col in range(cols):
            dx[row, col] = dy[row, col] - math.exp(y[row, col]) * row_sum
    return dx


@njit(parallel=True, cache=True)
def _cross_entropy_forward(x, target, weight, ignore_index, label_smoothing):
    """Per-row loss = (1 - eps) w[t] (lse - x[t]) + (eps / C) sum_c w[c] (lse - x[c]).

    Returns (loss, lse), both (ROWS,). prange over rows r: each iteration reads its row
    twice (max, then the sums) and writes loss[r] and lse[r] only.
    """
    rows, cols = x.shape
    loss = np.empty(rows, dtype=x.dtype)
    lse = np.empty(rows, dtype=x.dtype)
    eps = label_smoothing
    for row in prange(rows):
        row_max = x[row, 0]
        for col in range(cols):
            if x[row, col] > row_max:
                row_max = x[row, col]
        # One pass: the shifted sum, and for smoothing sum_c w[c] and sum_c w[c] (m - x[c]).
        row_sum = 0.0
        weight_sum = 0.0
        weighted_gap = 0.0
        for col in range(cols):
            row_sum += math.exp(x[row, col] - row_max)
            if eps > 0:
                weight_sum += weight[col]
                weighted_gap += weight[col] * (row_max - x[row, col])
        log_sum = math.log(row_sum)
        lse[row] = row_max + log_sum
        target_class = target[row]
        if target_class == ignore_index:
            loss[row] = 0.0
        else:
            # lse - x[t] = log(s) + (m - x[t]): two non-negative terms.
            nll = weight[target_class] * (log_sum + (row_max - x[row, target_class]))
            smooth = weight_sum * log_sum + weighted_gap
            loss[row] = (1.0 - eps) * nll + (eps / cols) * smooth
    return loss, lse


@njit(parallel=True, cache=True)
def _cross_entropy_backward(x, lse, target, weight, grad_loss, ignore_index, label_smoothing):
    """dx[r, c] = g[r] ((1 - eps) w[t] (p[r, c] - [c == t]) + (eps / C) (W p[r, c] - w[c])).

    p[r, c] = exp(x[r, c] - lse[r]) is rebuilt from the saved lse. prange over rows r;
    W = sum_c w[c] is the same for every row, so it is summed once before the loop.
    """
    rows, cols = x.shape
    dx = np.empty_like(x)
    eps = label_smoothing
    weight_sum = 0.0
    for col in range(cols):
        weight_sum += weight[col]
    for row in prange(rows):
        target_class = target[row]
        if target_class == ignore_index:
            for col in range(cols):
                dx[row, col] = 0.0
            continue
        g = grad_loss[row]
        target_weight = weight[target_class]
        for col in range(cols):
            p = math.exp(x[row, col] - lse[row])
            one_hot = 1.0 if col == target_class else 0.0
            nll_grad = target_weight * (p - one_hot)
            smooth_grad = weight_sum * p - weight[col]
            dx[row, col] = g * ((1.0 - eps) * nll_grad + (eps / cols) * smooth_grad)
    return dx
