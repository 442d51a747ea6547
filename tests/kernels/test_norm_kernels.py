"""Every implementation of the ``norm`` kernel family (Numba; CUDA through the CPU
emulation; CUDA on a GPU when there is one) against kernels/reference/norm.py, in
float32 and float64, over drawn shapes: one row or channel, more values per row or
channel than a CUDA block has threads (the strided loops), window sizes beyond C."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.reference import norm as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, call_kernel

DTYPES = [np.float32, np.float64]
EPS = 1e-5

# Row lengths and per-channel counts: small ones, and 300 > the 256 threads of a block.
lengths = st.one_of(st.integers(1, 12), st.just(300))


def _draw_values(draw, shape, dtype, distinct=True):
    """Values in [-2, 2] from a drawn seed (arrays here reach thousands of elements, too
    many to draw one by one). Distinct values, a shuffled evenly spaced grid, keep every
    row's variance well above eps (see test_layer_norm)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    size = int(np.prod(shape))
    if distinct:
        values = rng.permutation(np.linspace(-2.0, 2.0, max(size, 2)))[:size]
    else:
        values = rng.uniform(-2.0, 2.0, size)
    return values.reshape(shape).astype(dtype)


def _check(implementation, name, args, expected, dtype):
    actual = call_kernel(implementation, "norm", name, *args)
    if not isinstance(expected, tuple):
        actual, expected = (actual,), (expected,)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.shape == e.shape and a.dtype == e.dtype, (name, a.shape, e.shape, a.dtype, e.dtype)
        assert_close(a, e, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_layer_norm_kernels(implementation, dtype, data):
    R = data.draw(st.integers(1, 5), label="R")
    D = data.draw(lengths, label="D")
    x = _draw_values(data.draw, (R, D), dtype)
    dy = _draw_values(data.draw, (R, D), dtype, distinct=False)
    affine = data.draw(st.booleans(), label="affine")
    weight = _draw_values(data.draw, (D,), dtype, distinct=False) if affine else None
    bias = _draw_values(data.draw, (D,), dtype, distinct=False) if affine else None

    forward = reference.layer_norm_forward(x, weight, bias, EPS)
    _check(implementation, "layer_norm_forward", (x, weight, bias, EPS), forward, dtype)
    _, mean, rstd = forward
    _check(implementation, "layer_norm_backward_input", (dy, x, mean, rstd, weight),
           reference.layer_norm_backward_input(dy, x, mean, rstd, weight), dtype)
    _check(implementation, "layer_norm_backward_affine", (dy, x, mean, rstd),
           reference.layer_norm_backward_affine(dy, x, mean, rstd), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_group_norm_kernels(implementation, dtype, data):
    N = data.draw(st.integers(1, 3), label="N")
    G = data.draw(st.integers(1, 3), label="G")
    C = G * data.draw(st.integers(1, 3), label="C / G")
    S = data.draw(lengths, label="S")
    x = _draw_values(data.draw, (N, C, S), dtype)
    dy = _draw_values(data.draw, (N, C, S), dtype, distinct=False)
    affine = data.draw(st.booleans(), label="affine")
    weight = _draw_values(data.draw, (C,), dtype, distinct=False) if affine else None
    bias = _draw_values(data.draw, (C,), dtype, distinct=False) if affine else None

    forward = reference.group_norm_forward(x, weight, bias, G, EPS)
    _check(implementation, "group_norm_forward", (x, weight, bias, G, EPS), forward, dtype)
    _, mean, rstd = forward
    sums = reference.group_norm_backward_reduce(dy, x, mean, rstd, G)
    _check(implementation, "group_norm_backward_reduce", (dy, x, mean, rstd, G), sums, dtype)
    _check(implementation, "group_norm_backward_input", (dy, x, mean, rstd, weight, *sums, G),
           reference.group_norm_backward_input(dy, x, mean, rstd, weight, *sums, G), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_batch_norm_kernels(implementation, dtype, data):
    N = data.draw(st.integers(1, 4), label="N")
    C = data.draw(st.integers(1, 4), label="C")
    S = data.draw(st.one_of(st.integers(1, 6), st.just(70)), label="S")  # N * S up to 280
    x = _draw_values(data.draw, (N, C, S), dtype)
    dy = _draw_values(data.draw, (N, C, S), dtype, distinct=False)
    weight = _draw_values(data.draw, (C,), dtype, distinct=False) if data.draw(st.booleans()) else None

    x64 = x.astype(np.float64)  # batch statistics (the forward's kernels: the channel family)
    mean = x64.mean(axis=(0, 2)).astype(dtype)
    var = x64.var(axis=(0, 2))
    invstd = (1.0 / np.sqrt(var + EPS)).astype(dtype)
    sums = reference.batch_norm_backward_reduce(dy, x, mean, invstd)
    _check(implementation, "batch_norm_backward_reduce", (dy, x, mean, invstd), sums, dtype)
    _check(implementation, "batch_norm_backward_input", (dy, x, mean, invstd, weight, *sums),
           reference.batch_norm_backward_input(dy, x, mean, invstd, weight, *sums), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(data=st.data())
def test_lrn_kernels(implementation, dtype, data):
    N = data.draw(st.integers(1, 2), label="N")
    C = data.draw(st.integers(1, 7), label="C")
    S = data.draw(st.integers(1, 6), label="S")
    size = data.draw(st.integers(1, 8), label="size")
    alpha, beta, k = data.draw(st.sampled_from([(1e-4, 0.75, 1.0), (0.5, 0.5, 2.0), (1.0, 1.0, 0.5)]))
    x = _draw_values(data.draw, (N, C, S), dtype, distinct=False)
    dy = _draw_values(data.draw, (N, C, S), dtype, distinct=False)

    forward = reference.lrn_forward(x, size, alpha, beta, k)
    _check(implementation, "lrn_forward", (x, size, alpha, beta, k), forward, dtype)
    y, scale = forward
    _check(implementation, "lrn_backward", (dy, x, y, scale, size, alpha, beta),
           reference.lrn_backward(dy, x, y, scale, size, alpha, beta), dtype)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
def test_non_contiguous_arrays_are_accepted(implementation):
    # The kernels read raw memory: the wrappers must make strided inputs contiguous.
    x = np.random.default_rng(3).standard_normal((6, 5)).T  # (5, 6), Fortran order
    _check(implementation, "layer_norm_forward", (x, None, None, EPS),
           reference.layer_norm_forward(np.ascontiguousarray(x), None, None, EPS), np.float64)


def test_the_implementations_export_the_same_names():
    from minitorch_cv.kernels.cpu import norm as cpu
    from minitorch_cv.kernels.cuda import norm as cuda

    public = {name for name in dir(reference) if not name.startswith("_") and callable(getattr(reference, name))}
    public -= {"np"}
    for module in (cpu, cuda):
        missing = [name for name in public if not callable(getattr(module, name, None))]
        assert not missing, (module.__name__, missing)
