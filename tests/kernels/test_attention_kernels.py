"""Attention kernels (Numba, CUDA emulated, CUDA on a GPU) against kernels/reference.

Geometries are drawn: L != S, length 1, E and Ev on both sides of the CUDA tile edge
(16 for float, 8 for double) and not multiples of it, biases broadcast over any subset
of (B, NH, L, S), -inf entries (masked keys) including fully masked rows, causal
masking, non-contiguous inputs, float32 and float64.
"""
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.kernels.cpu import attention as cpu_attention
from minitorch_cv.kernels.reference import attention as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, call_kernel, requires_gpu, tolerance
from tests.strategies import with_layout

FAMILY = "attention"


@st.composite
def attention_problems(draw, max_length=20, max_dim=20):
    """q, k, v, bias, scale, causal and an output gradient for one drawn geometry."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    B, NH = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    L, S = draw(st.integers(1, max_length)), draw(st.integers(1, max_length))
    E, Ev = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    layout = draw(st.sampled_from(["contiguous", "permuted", "strided"]))
    q = with_layout(rng.standard_normal((B, NH, L, E)).astype(dtype), layout)
    k = rng.standard_normal((B, NH, S, E)).astype(dtype)
    v = with_layout(rng.standard_normal((B, NH, S, Ev)).astype(dtype), layout)
    bias = None
    if draw(st.booleans()):
        shape = tuple(size if draw(st.booleans()) else 1 for size in (B, NH, L, S))
        bias = rng.standard_normal(shape).astype(dtype)
        masked = rng.random(shape) < draw(st.sampled_from([0.0, 0.3]))
        bias[masked] = -np.inf
        if draw(st.booleans()):
            bias[..., 0, :] = -np.inf  # the first query row(s) see no key at all
    scale = draw(st.sampled_from([None, 0.3, 1.7]))
    scale = 1 / np.sqrt(E) if scale is None else scale
    causal = draw(st.booleans())
    dout = rng.standard_normal((B, NH, L, Ev)).astype(dtype)
    return q, k, v, bias, scale, causal, dout


def _assert_all_close(actual, expected, dtype, what):
    for name, a, e in zip(what, actual, expected):
        if e is None:
            assert a is None, name
            continue
        assert a.shape == e.shape and a.dtype == e.dtype, (name, a.shape, e.shape, a.dtype)
        np.testing.assert_allclose(a, e, err_msg=name, **tolerance(dtype))


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@given(problem=attention_problems())
def test_forward_and_backward_match_reference(implementation, problem):
    q, k, v, bias, scale, causal, dout = problem
    expected_out, expected_lse = reference.attention_forward(q, k, v, bias, scale, causal)
    out, lse = call_kernel(implementation, FAMILY, "attention_forward", q, k, v, bias, scale, causal)
    _assert_all_close((out, lse), (expected_out, expected_lse), q.dtype, ("out", "lse"))

    expected = reference.attention_backward(
        q, k, v, bias, expected_out, expected_lse, dout, scale, causal
    )
    grads = call_kernel(
        implementation, FAMILY, "attention_backward",
        q, k, v, bias, expected_out, expected_lse, dout, scale, causal,
    )
    _assert_all_close(grads, expected, q.dtype, ("dq", "dk", "dv", "dbias"))


@given(problem=attention_problems(), workspace=st.integers(1, 2048))
def test_cpu_chunks_of_heads_and_rows_match_reference(problem, workspace):
    """A small workspace limit cuts the Numba kernel's work into chunks of heads (which
    may straddle two batch entries) or blocks of rows of one head; every cut must give
    the reference's results, the bias gradient summed across chunks included."""
    q, k, v, bias, scale, causal, dout = problem
    expected_out, expected_lse = reference.attention_forward(q, k, v, bias, scale, causal)
    expected = reference.attention_backward(q, k, v, bias, expected_out, expected_lse, dout, scale, causal)
    limit = cpu_attention._WORKSPACE_BYTES
    cpu_attention._WORKSPACE_BYTES = workspace
    try:
        out, lse = cpu_attention.attention_forward(q, k, v, bias, scale, causal)
        grads = cpu_attention.attention_backward(q, k, v, bias, expected_out, expected_lse, dout, scale, causal)
    finally:
        cpu_attention._WORKSPACE_BYTES = limit
    _assert_all_close((out, lse), (expected_out, expected_lse), q.dtype, ("out", "lse"))
    _assert_all_close(grads, expected, q.dtype, ("dq", "dk", "dv", "dbias"))


def test_cpu_chunks_cover_every_row_once():
    limit = cpu_attention._WORKSPACE_BYTES
    try:
        for workspace, heads, L, S in ((100, 5, 7, 3), (10**6, 5, 7, 3), (1, 3, 4, 2), (40, 4, 3, 5)):
            cpu_attention._WORKSPACE_BYTES = workspace
            seen = np.zeros((heads, L), dtype=int)
            for h0, h1, i0, i1 in cpu_attention._chunks(heads, L, S, 4):
                assert (h1 - h0) * (i1 - i0) * S * 4 <= max(workspace, S * 4)  # one row at least
                seen[h0:h1, i0:i1] += 1
            np.testing.assert_array_equal(seen, 1)
    finally:
        cpu_attention._WORKSPACE_BYTES = limit


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fully_masked_rows_give_zeros_and_zero_gradients(implementation, dtype):
    rng = np.random.default_rng(0)
    B, NH, L, S, E = 1, 2, 5, 7, 3
    q, k, v = (rng.standard_normal(s).astype(dtype) for s in ((B, NH, L, E), (B, NH, S, E), (B, NH, S, E)))
    bias = np.zeros((B, 1, L, S), dtype=dtype)
    bias[..., 2, :] = -np.inf  # query 2 sees no key
    bias[..., 4, :3] = -np.inf  # query 4 sees keys 3..6 only
    out, lse = call_kernel(implementation, FAMILY, "attention_forward", q, k, v, bias, 0.5, False)
    assert np.all(out[:, :, 2] == 0) and np.all(np.isposinf(lse[:, :, 2]))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(lse[:, :, [0, 1, 3, 4]]))
    dout = rng.standard_normal(out.shape).astype(dtype)
    dq, dk, dv, dbias = call_kernel(
        implementation, FAMILY, "attention_backward", q, k, v, bias, out, lse, dout, 0.5, False
    )
    for grad in (dq, dk, dv, dbias):
        assert np.all(np.isfinite(grad))
    assert np.all(dq[:, :, 2] == 0) and np.all(dbias[..., 2, :] == 0)
    assert np.all(dbias[..., 4, :3] == 0)  # masked keys get no bias gradient
    assert np.any(dq[:, :, 4] != 0)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_head_dim_at_the_cuda_limit(implementation, dtype):
    """E = Ev = 128 fills the CUDA tiles exactly (8 accumulator columns per thread for
    float, 16 for double)."""
    rng = np.random.default_rng(1)
    q, k, v = ((rng.standard_normal((1, 1, 3, 128)) * 0.2).astype(dtype) for _ in range(3))
    expected = reference.attention_forward(q, k, v, None, 0.1, True)
    actual = call_kernel(implementation, FAMILY, "attention_forward", q, k, v, None, 0.1, True)
    _assert_all_close(actual, expected, dtype, ("out", "lse"))
    dout = rng.standard_normal(expected[0].shape).astype(dtype)
    grads = call_kernel(implementation, FAMILY, "attention_backward", q, k, v, None, *expected, dout, 0.1, True)
    expected_grads = reference.attention_backward(q, k, v, None, *expected, dout, 0.1, True)
    _assert_all_close(grads, expected_grads, dtype, ("dq", "dk", "dv", "dbias"))


@pytest.mark.parametrize("implementation", ["cuda", pytest.param("cuda-gpu", marks=requires_gpu)])
def test_cuda_kernels_reject_head_dims_over_the_limit(implementation):
    q = np.zeros((1, 1, 2, 129))
    v = np.zeros((1, 1, 2, 4))
    with pytest.raises(ValueError, match="E=129"):
        call_kernel(implementation, FAMILY, "attention_forward", q, q, v, None, 1.0, False)
    with pytest.raises(ValueError, match="Ev=130"):
        call_kernel(implementation, FAMILY, "attention_forward", v, v, np.zeros((1, 1, 2, 130)), None, 1.0, False)


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
def test_dbias_only_when_asked(implementation):
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((1, 2, 3, 4)) for _ in range(3))
    bias = rng.standard_normal((1, 2, 3, 3))
    out, lse = reference.attention_forward(q, k, v, bias, 0.5, False)
    grads = call_kernel(
        implementation, FAMILY, "attention_backward", q, k, v, bias, out, lse, out, 0.5, False,
        need_dbias=False,
    )
    assert grads[3] is None


def _peak_traced_bytes(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("length", [64, 1024])
def test_cpu_forward_memory_stays_under_the_workspace_limit(length):
    """The Numba forward allocates its outputs and one chunk of scores under
    _WORKSPACE_BYTES (NumPy's matmul may hold a second such buffer), whatever L * S.

    tracemalloc sees NumPy allocations. At length 1024 all the scores (16 MiB) are 8 times
    the limit: the kernel must stay under the limit where the reference, measured too
    (so the test shows that the measurement catches an (L x S) array), builds them all.
    """
    B, NH, E = 1, 2, 8
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((B, NH, length, E)) for _ in range(3))
    cpu_attention.attention_forward(q[:, :, :2], k[:, :, :2], v[:, :, :2], None, 0.3, False)  # compile
    outputs = B * NH * length * (E + 1) * q.itemsize  # out and lse
    scores = B * NH * length * length * q.itemsize
    workspace = min(scores, cpu_attention._WORKSPACE_BYTES)

    peak_kernel = _peak_traced_bytes(lambda: cpu_attention.attention_forward(q, k, v, None, 0.3, False))
    assert peak_kernel <= outputs + 2 * workspace + 65536, (peak_kernel, outputs, workspace)

    peak_reference = _peak_traced_bytes(lambda: reference.attention_forward(q, k, v, None, 0.3, False))
    assert peak_reference >= scores
    if scores > 4 * cpu_attention._WORKSPACE_BYTES:
        assert peak_kernel < scores / 4

