"""conv2d: values against direct loops, gradients against finite differences (float64),
float32 vs float64, padding="same"/"valid", unbatched and empty inputs, and every
bad-input error; for both conv2d and conv_transpose2d, batch chunking and the work that
a backward skips.

Forward and gradient tests run through each CPU kernel implementation ("reference",
"cpu" = Numba, "cuda" = the CUDA C kernels in the emulator) and on the GPU when there is
one, on geometries drawn by tests/strategies_conv.py.
"""

import threading

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from minitorch_cv.ops import conv as conv_ops
from tests.helpers import requires_gpu
from tests.ops.conv_testing import TARGETS, direct_conv2d, forbid_kernels, on, random, zeros
from tests.strategies import layouts, make_tensor
from tests.strategies_conv import conv_cases, seeds

F = mt.nn.functional


# ---------------------------------------------------------------- forward values
@pytest.mark.parametrize("target", TARGETS)
@given(case=conv_cases(), layout=layouts(), seed=seeds(), with_bias=st.booleans())
def test_conv2d_matches_direct_loops(target, case, layout, seed, with_bias):
    device, context = on(target)
    x, w, b = (
        random(seed, case.input_shape),
        random(seed + 1, case.weight_shape),
        random(seed + 2, case.K),
    )
    with context:
        y = F.conv2d(
            make_tensor(x, device, layout),
            make_tensor(w, device),
            make_tensor(b, device) if with_bias else None,
            **case.conv2d_kwargs(),
        )
    bias = b if with_bias else None
    expected = direct_conv2d(x, w, bias, case.stride, case.padding, case.dilation, case.G)
    assert y.shape == case.output_shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("target", TARGETS)
@given(case=conv_cases(), layout=layouts(), seed=seeds(), with_bias=st.booleans())
def test_conv2d_gradients(target, case, layout, seed, with_bias):
    device, context = on(target)
    inputs = [
        make_tensor(random(seed, case.input_shape), device, layout),
        make_tensor(random(seed + 1, case.weight_shape), device),
    ]
    if with_bias:
        inputs.append(make_tensor(random(seed + 2, case.K), device))
    kwargs = case.conv2d_kwargs()
    with context:
        check_backward(lambda x, w, b=None: F.conv2d(x, w, b, **kwargs), inputs, seed=seed % 1000)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(padding="same", dilation=(2, 1)),  # even KW: the extra column goes right
        dict(padding="valid", stride=(2, 3)),
        dict(padding=(2, 0), dilation=(1, 2), groups=2),
    ],
)
def test_conv2d_gradients_named_cases(target, kwargs):
    device, context = on(target)
    C = 4
    weight_shape = (6, C // kwargs.get("groups", 1), 3, 2)
    inputs = [
        make_tensor(random(0, (2, C, 7, 6)), device, "permuted"),
        make_tensor(random(1, weight_shape), device),
        make_tensor(random(2, 6), device),
    ]
    with context:
        check_backward(lambda x, w, b: F.conv2d(x, w, b, **kwargs), inputs)


@pytest.mark.parametrize("target", TARGETS)
def test_depthwise_and_pointwise_gradients(target):
    """groups == C (depthwise), then a 1x1 convolution, which skips im2col."""
    device, context = on(target)
    x = make_tensor(random(0, (2, 3, 5, 4)), device, "strided")
    depthwise = make_tensor(random(1, (6, 1, 3, 3)), device)  # two filters per channel
    pointwise = make_tensor(random(2, (4, 3, 1, 1)), device)
    with context:
        check_backward(lambda x, w: F.conv2d(x, w, padding=1, groups=3), [x, depthwise])
        check_backward(lambda x, w: F.conv2d(x, w), [x, pointwise])
        check_backward(
            lambda x, w: F.conv_transpose2d(x, w, groups=3),
            [x, make_tensor(random(3, (3, 2, 1, 1)), device)],
        )


# ---------------------------------------------------------------- float32
@given(case=conv_cases(), seed=seeds())
def test_float32_agrees_with_float64(case, seed):
    """Each output of float32 conv2d is a sum of n = C/G*KH*KW products (plus the bias),
    and each gradient entry a sum of at most n' products; rounding the inputs to float32
    and summing in float32 is off by at most (n + 3) * eps32 * (the same sum of absolute
    values), the standard bound for a dot product. Checked for y, grad_x and grad_w."""
    x, w, b = (
        random(seed, case.input_shape),
        random(seed + 1, case.weight_shape),
        random(seed + 2, case.K),
    )
    gy = random(seed + 3, case.output_shape)
    kwargs = case.conv2d_kwargs()

    def run(dtype, x, w, b, gy):
        xt = mt.tensor(x.astype(dtype), requires_grad=True)
        wt = mt.tensor(w.astype(dtype), requires_grad=True)
        y = F.conv2d(xt, wt, mt.tensor(b.astype(dtype)), **kwargs)
        y.backward(mt.tensor(gy.astype(dtype)))
        return y.detach().numpy(), xt.grad.detach().numpy(), wt.grad.detach().numpy()

    results32 = run(np.float32, x, w, b, gy)
    results64 = run(np.float64, x, w, b, gy)
    magnitudes = run(np.float64, np.abs(x), np.abs(w), np.abs(b), np.abs(gy))
    terms = (
        case.C // case.G * case.KH * case.KW,  # y
        case.K // case.G * case.KH * case.KW,  # grad_x: taps times output channels of the group
        case.N * case.OH * case.OW,  # grad_w
    )
    eps32 = np.finfo(np.float32).eps
    for name, r32, r64, magnitude, n in zip(
        ("y", "grad_x", "grad_w"), results32, results64, magnitudes, terms
    ):
        assert r32.dtype == np.float32, name
        bound = (n + 3) * eps32 * magnitude + np.finfo(np.float32).tiny
        assert np.all(np.abs(r32 - r64) <= bound), name


# ---------------------------------------------------------------- chunking, skipped work
class KernelCalls:
    """Replaces the Numba conv kernels with wrappers that record each call's batch size."""

    def __init__(self, monkeypatch):
        from minitorch_cv.kernels.cpu import conv as kernels

        self.im2col, self.col2im = [], []
        im2col, col2im = kernels.im2col, kernels.col2im

        def counted_im2col(x, *args):
            self.im2col.append(x.shape[0])
            return im2col(x, *args)

        def counted_col2im(col, N, *args):
            self.col2im.append(N)
            return col2im(col, N, *args)

        monkeypatch.setattr(kernels, "im2col", counted_im2col)
        monkeypatch.setattr(kernels, "col2im", counted_col2im)

    def reset(self):
        self.im2col.clear()
        self.col2im.clear()


@pytest.fixture
def kernel_calls(monkeypatch):
    return KernelCalls(monkeypatch)


@pytest.fixture
def workspace_limit():
    """Restores the workspace limit after the test."""
    previous = conv_ops.get_workspace_limit()
    yield conv_ops.set_workspace_limit
    conv_ops.set_workspace_limit(previous)


def _forward_backward(op, x, w, b, gy, **kwargs):
    xt, wt, bt = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
    y = op(xt, wt, bt, **kwargs)
    y.backward(mt.tensor(gy))
    return [y.detach().numpy(), xt.grad.detach().numpy(), wt.grad.detach().numpy(), bt.grad.detach().numpy()]


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_batch_chunks_give_the_same_results(op, kernel_calls, workspace_limit, threads):
    threads(1)  # the chunks' sizes then follow the workspace limit alone
    kwargs = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    # Per sample, the workspace is (C*KH*KW + K)*OH*OW values for im2col and its GEMM,
    # plus C*H*W for col2im, where (C, H, W) -> (K, OH, OW) is the convolution (for
    # conv_transpose2d, the one it transposes: from its output back to its input).
    if op == "conv2d":
        x, w, b, gy = (
            random(0, (5, 4, 7, 6)),
            random(1, (6, 2, 3, 2)),
            random(2, 6),
            random(3, (5, 6, 4, 4)),
        )
        im2col_values, col2im_values = (4 * 3 * 2 + 6) * 4 * 4, 4 * 7 * 6  # 480, 168
    else:
        kwargs["output_padding"] = (1, 0)
        x, w, b, gy = (
            random(0, (5, 4, 4, 4)),
            random(1, (4, 3, 3, 2)),
            random(2, 6),
            random(3, (5, 6, 8, 6)),
        )
        im2col_values, col2im_values = (6 * 3 * 2 + 4) * 4 * 4, 6 * 8 * 6  # 640, 288
    function = getattr(F, op)
    whole = _forward_backward(function, x, w, b, gy, **kwargs)
    assert kernel_calls.im2col + kernel_calls.col2im == [5] * 3  # one chunk each

    # Room for two samples of the col2im side (and two, not three, of the im2col side)
    # gives chunks of 2, 2, 1 everywhere.
    workspace_limit(2 * 8 * (im2col_values + col2im_values))
    kernel_calls.reset()
    chunked = _forward_backward(function, x, w, b, gy, **kwargs)
    assert kernel_calls.im2col + kernel_calls.col2im == [2, 2, 1] * 3
    for a, e in zip(chunked, whole):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)

    workspace_limit(1)  # less than one sample: one sample at a time
    kernel_calls.reset()
    single = _forward_backward(function, x, w, b, gy, **kwargs)
    assert kernel_calls.im2col + kernel_calls.col2im == [1] * 15
    for a, e in zip(single, whole):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "stride, needs, im2col_calls, col2im_calls",
    [
        (2, (True, True, True), 2, 1),  # forward + weight gradient; input gradient
        (2, (False, True, False), 2, 0),  # no input gradient: no col2im
        (2, (True, False, False), 1, 1),  # no weight gradient: im2col only in forward
        (2, (False, False, True), 1, 0),  # bias only: the backward runs no kernel
        # Stride 1: the input gradient is a convolution of grad_y (im2col, no col2im), and
        # its columns give the weight gradient too (ops/conv.py, _stride_one_gradients).
        (1, (True, True, True), 2, 0),
        (1, (False, True, False), 2, 0),  # x's columns, as with stride 2
        (1, (True, False, False), 2, 0),
        (1, (False, False, True), 1, 0),
    ],
)
def test_conv2d_backward_computes_only_what_is_needed(
    kernel_calls, threads, stride, needs, im2col_calls, col2im_calls
):
    threads(1)  # one chunk per pass (with 2 threads, the batch of 2 would be 2 chunks)
    x = mt.tensor(random(0, (2, 3, 5, 5)), requires_grad=needs[0])
    w = mt.tensor(random(1, (4, 3, 3, 3)), requires_grad=needs[1])
    b = mt.tensor(random(2, 4), requires_grad=needs[2])
    F.conv2d(x, w, b, padding=1, stride=stride).sum().backward()
    assert (len(kernel_calls.im2col), len(kernel_calls.col2im)) == (im2col_calls, col2im_calls)
    for tensor, needed in zip((x, w, b), needs):
        assert (tensor.grad is not None) == needed


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs a pool of at least 2 threads")
@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
@pytest.mark.parametrize("stride", [1, 2])  # stride 1: both gradients from grad_y's columns
def test_chunks_run_side_by_side_on_the_threads(op, stride, monkeypatch, threads):
    """With 2 threads the chunks run on 2 pool threads, each with single-threaded
    kernels and BLAS, and give what 1 thread gives (float64: the weight gradient's sum
    over the chunks is in chunk order either way; only the chunks' sizes differ).

    With 2 threads, the first kernel call waits for a second one (a barrier): a pool
    thread that finished its chunk before the other thread started could otherwise take
    every chunk itself, and the test would fail by chance. A pool that ran the chunks one
    after another would never reach the barrier's second call (it times out)."""
    from minitorch_cv.kernels.cpu import conv as kernels

    seen = []  # (thread, Numba threads, BLAS threads) of each kernel call
    im2col = kernels.im2col
    first_two = threading.Barrier(2, timeout=30)
    lock = threading.Lock()
    on_two_threads = []  # not empty once the test has set 2 threads

    def recorded_im2col(x, *args):
        with lock:
            seen.append((threading.get_ident(), numba.get_num_threads(), mt.threads.blas_num_threads()))
            wait = bool(on_two_threads) and len(seen) <= 2
        if wait:
            first_two.wait()
        return im2col(x, *args)

    monkeypatch.setattr(kernels, "im2col", recorded_im2col)
    kwargs = dict(stride=(stride, 1), padding=1, groups=2)
    if op == "conv2d":
        x, w, b = random(0, (9, 4, 7, 6)), random(1, (6, 2, 3, 2)), random(2, 6)
    else:
        x, w, b = random(0, (9, 6, 5, 6)), random(1, (6, 2, 3, 2)), random(2, 4)
        kwargs["output_padding"] = (stride - 1, 0)
    function = getattr(F, op)
    gy = random(3, function(mt.tensor(x), mt.tensor(w), mt.tensor(b), **kwargs).shape)
    seen.clear()
    threads(1)
    sequential = _forward_backward(function, x, w, b, gy, **kwargs)
    assert {thread for thread, _, _ in seen} == {threading.get_ident()}

    seen.clear()
    threads(2)
    on_two_threads.append(True)
    side_by_side = _forward_backward(function, x, w, b, gy, **kwargs)
    pool_threads = {thread for thread, _, _ in seen}
    assert len(pool_threads) == 2 and threading.get_ident() not in pool_threads
    blas_alone = 1 if mt.threads.blas_num_threads() is not None else None
    assert {(numba_threads, blas) for _, numba_threads, blas in seen} == {(1, blas_alone)}
    assert mt.get_num_threads() == 2  # the caller's settings are back
    if blas_alone is not None:
        assert mt.threads.blas_num_threads() == 2
    for a, e in zip(side_by_side, sequential):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def test_a_failing_chunk_raises_in_the_caller_and_restores_blas(monkeypatch, threads):
    from minitorch_cv.kernels.cpu import conv as kernels

    def failing_im2col(x, *args):
        raise RuntimeError("im2col failed")

    monkeypatch.setattr(kernels, "im2col", failing_im2col)
    threads(min(2, numba.config.NUMBA_NUM_THREADS))
    blas_before = mt.threads.blas_num_threads()
    with pytest.raises(RuntimeError, match="im2col failed"):
        F.conv2d(mt.tensor(random(0, (8, 2, 5, 5))), mt.tensor(random(1, (3, 2, 3, 3))))
    assert mt.threads.blas_num_threads() == blas_before


def test_pointwise_convolution_runs_no_kernel(kernel_calls):  # with any number of threads
    """1x1, stride 1, no padding: the input already is the column matrix."""
    x, w = mt.tensor(random(0, (2, 4, 3, 5)), requires_grad=True), mt.tensor(
        random(1, (6, 2, 1, 1)), requires_grad=True
    )
    y = F.conv2d(x, w, groups=2)
    y.sum().backward()
    assert kernel_calls.im2col == [] and kernel_calls.col2im == []
    np.testing.assert_allclose(
        y.detach().numpy(), direct_conv2d(x.detach().numpy(), w.detach().numpy(), None, (1, 1), (0, 0), (1, 1), 2), rtol=1e-12
    )


# ---------------------------------------------------------------- padding strings, shapes
@pytest.mark.parametrize("target", ["reference", "cpu"])
@given(
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    size=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    seed=seeds(),
)
def test_same_padding_keeps_the_size_and_puts_the_odd_row_last(
    target, kernel, dilation, size, seed
):
    (KH, KW), (DH, DW), (H, W) = kernel, dilation, size
    x, w = random(seed, (1, 2, H, W)), random(seed + 1, (3, 2, KH, KW))
    with backend.use_cpu_kernels(target):
        y = F.conv2d(mt.tensor(x), mt.tensor(w), padding="same", dilation=dilation)
    total_h, total_w = DH * (KH - 1), DW * (KW - 1)
    padded = np.pad(
        x,
        (
            (0, 0),
            (0, 0),
            (total_h // 2, total_h - total_h // 2),
            (total_w // 2, total_w - total_w // 2),
        ),
    )
    expected = direct_conv2d(padded, w, None, (1, 1), (0, 0), (DH, DW), 1)
    assert y.shape == (1, 3, H, W)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_valid_padding_is_no_padding():
    x, w = mt.tensor(random(0, (1, 2, 6, 5))), mt.tensor(random(1, (3, 2, 2, 3)))
    np.testing.assert_array_equal(
        F.conv2d(x, w, padding="valid").numpy(), F.conv2d(x, w, padding=0).numpy()
    )


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_unbatched_input(op):
    """A 3-D (C, H, W) input is a batch of one, returned without the batch dim."""
    x, w = random(0, (4, 5, 6)), random(1, (4, 2, 3, 2))
    function = getattr(F, op)
    batched = function(mt.tensor(x[None]), mt.tensor(w), stride=2, groups=2)
    single = function(mt.tensor(x), mt.tensor(w), stride=2, groups=2)
    assert single.shape == batched.shape[1:]
    np.testing.assert_array_equal(single.numpy(), batched.numpy()[0])
    check_backward(lambda x, w: function(x, w, stride=2, groups=2), [mt.tensor(x), mt.tensor(w)])


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_empty_batch(op):
    """N = 0 gives an empty output and zero weight and bias gradients (as in PyTorch)."""
    x = mt.zeros(0, 3, 5, 5, dtype=mt.float64, requires_grad=True)
    w = mt.tensor(random(0, (3, 2, 3, 3)), requires_grad=True)
    b = mt.tensor(random(1, 2), requires_grad=True)
    w_conv = (
        w if op == "conv_transpose2d" else mt.tensor(random(0, (2, 3, 3, 3)), requires_grad=True)
    )
    y = getattr(F, op)(x, w_conv, b)
    y.sum().backward()
    assert y.shape[0] == 0
    assert np.all(w_conv.grad.numpy() == 0) and np.all(b.grad.numpy() == 0)
    assert x.grad.shape == (0, 3, 5, 5)


# ---------------------------------------------------------------- bad input
def error_case(exception, message, input, weight, **kwargs):  # noqa: A002 - PyTorch's name
    return pytest.param(dict(input=input, weight=weight, **kwargs), exception, message, id=message)


x1, w1 = zeros(1, 1, 5, 5), zeros(1, 1, 3, 3)
CONV2D_ERRORS = [
    error_case(ValueError, r"input must be 4-D \(N, C, H, W\) or 3-D", zeros(3, 5), zeros(2, 3, 1, 1)),
    error_case(ValueError, "weight must be 4-D", zeros(1, 3, 5, 5), zeros(2, 3, 1)),
    error_case(
        ValueError, r"out_channels \(weight.shape\[0\] = 3\) must be divisible by groups = 2",
        zeros(1, 4, 5, 5), zeros(3, 2, 1, 1), groups=2,
    ),
    error_case(
        ValueError, r"in_channels \(input channels C = 3\) must be divisible by groups = 2",
        zeros(1, 3, 5, 5), zeros(2, 1, 1, 1), groups=2,
    ),
    error_case(ValueError, "expects input with 3 channels", zeros(1, 4, 5, 5), zeros(2, 3, 1, 1)),
    error_case(ValueError, "expects input with 2 channels", zeros(1, 4, 5, 5), zeros(2, 1, 1, 1), groups=2),
    error_case(ValueError, r"output would be empty: \(OH, OW\) = \(0, 3\)", zeros(1, 1, 2, 5), w1),
    error_case(ValueError, "stride must be >= 1", x1, w1, stride=(1, 0)),
    error_case(ValueError, "dilation must be >= 1", x1, w1, dilation=(0, 1)),
    error_case(ValueError, "padding must be >= 0", x1, w1, padding=(-1, 0)),
    error_case(ValueError, "padding must be 'valid', 'same'", x1, w1, padding="full"),
    error_case(ValueError, "padding='same' needs stride 1", x1, w1, padding="same", stride=2),
    error_case(TypeError, "stride must be an int or a pair of ints", x1, w1, stride=1.5),
    error_case(TypeError, "stride must be an int or a pair", x1, w1, stride=(1, 1, 1)),
    error_case(ValueError, "groups must be >= 1", x1, w1, groups=0),
    error_case(TypeError, "groups must be an int", x1, w1, groups=1.0),
    error_case(
        TypeError, "weight has dtype float32 but input has dtype float64",
        zeros(1, 1, 5, 5, dtype=mt.float64), w1,
    ),
    error_case(TypeError, "bias has dtype float64", x1, w1, bias=zeros(1, dtype=mt.float64)),
    error_case(
        TypeError, "input must be a floating-point tensor",
        zeros(1, 1, 5, 5, dtype=mt.int64), zeros(1, 1, 3, 3, dtype=mt.int64),
    ),
    error_case(ValueError, r"bias must have shape \(2,\)", x1, zeros(2, 1, 3, 3), bias=zeros(1)),
    error_case(TypeError, "input must be a Tensor", np.zeros((1, 1, 5, 5)), w1),
]


@pytest.fixture
def no_kernel_may_run(monkeypatch):
    forbid_kernels(monkeypatch)


@pytest.mark.parametrize("arguments, exception, message", CONV2D_ERRORS)
def test_conv2d_bad_input(no_kernel_may_run, arguments, exception, message):
    with pytest.raises(exception, match=message):
        F.conv2d(**arguments)


@requires_gpu
@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_mixed_devices(op):
    x, w = mt.zeros(1, 2, 5, 5), mt.zeros(2, 2, 3, 3, device="gpu")
    with pytest.raises(RuntimeError, match="weight is on gpu but input is on cpu"):
        getattr(F, op)(x, w)


def test_workspace_limit_must_be_positive(workspace_limit):
    with pytest.raises(ValueError, match="positive number of bytes"):
        workspace_limit(0)
