"""deform_conv2d: values against plain loops, gradients against finite differences
(float64) for input, offset, weight, bias and mask, conv2d as the special case of zero or
whole-number offsets, batch chunking and the work that a backward skips, and every
bad-input error.

Forward and gradient tests run through each CPU kernel implementation ("reference",
"cpu" = Numba, "cuda" = the CUDA C kernels in the emulator) and on the GPU when there is
one, on geometries and offsets drawn by tests/strategies_deform.py.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from minitorch_cv.ops import conv as conv_ops
from minitorch_cv.ops import deform_conv2d
from tests.helpers import requires_gpu
from tests.ops.conv_testing import TARGETS, on, random, zeros
from tests.ops.deform_conv_testing import direct_deform_conv2d, forbid_kernels
from tests.strategies import layouts, make_tensor
from tests.strategies_conv import conv_cases, seeds
from tests.strategies_deform import deform_cases

F = mt.nn.functional


def deform_kwargs(case):
    c = case.conv
    return dict(stride=c.stride, padding=c.padding, dilation=c.dilation)


# ---------------------------------------------------------------- forward values
@pytest.mark.parametrize("target", TARGETS)
@given(case=deform_cases(), layout=layouts(), seed=seeds(), with_bias=st.booleans(),
       with_mask=st.booleans())
def test_deform_conv2d_matches_direct_loops(target, case, layout, seed, with_bias, with_mask):
    device, context = on(target)
    x, offset, mask = case.arrays(seed)
    w, b = random(seed + 1, case.conv.weight_shape), random(seed + 2, case.conv.K)
    b, mask = (b if with_bias else None), (mask if with_mask else None)
    with context:
        y = deform_conv2d(
            make_tensor(x, device, layout),
            make_tensor(offset, device, layout),
            make_tensor(w, device),
            None if b is None else make_tensor(b, device),
            mask=None if mask is None else make_tensor(mask, device, layout),
            **deform_kwargs(case),
        )
    c = case.conv
    expected = direct_deform_conv2d(x, offset, w, b, mask, c.stride, c.padding, c.dilation)
    assert y.shape == c.output_shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("target", TARGETS)
@given(case=conv_cases(), seed=seeds(), with_mask=st.booleans())
def test_zero_offsets_and_a_unit_mask_give_conv2d_exactly(target, case, seed, with_mask):
    """The columns are im2col's bit for bit and the GEMMs conv2d's, so the outputs are
    equal bit for bit. Except for a 1x1 kernel with stride 1 and no padding: there conv2d
    skips im2col and multiplies the input itself, a GEMM of another shape, whose sums
    BLAS may round differently."""
    device, context = on(target)
    x, w, b = random(seed, case.input_shape), random(seed + 1, case.weight_shape), random(seed + 2, case.K)
    offset = np.zeros((case.N, 2 * case.KH * case.KW, case.OH, case.OW))
    mask = np.ones((case.N, case.KH * case.KW, case.OH, case.OW)) if with_mask else None
    x, w, b = (make_tensor(a, device) for a in (x, w, b))
    with context:
        expected = F.conv2d(x, w, b, **case.conv2d_kwargs())
        y = deform_conv2d(
            x, make_tensor(offset, device), w, b, case.stride, case.padding, case.dilation,
            mask=None if mask is None else make_tensor(mask, device),
        )
    if (case.KH, case.KW, case.SH, case.SW, case.PH, case.PW) == (1, 1, 1, 1, 0, 0):
        np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-14, atol=1e-14)
    else:
        np.testing.assert_array_equal(y.numpy(), expected.numpy())


@pytest.mark.parametrize("target", TARGETS)
@given(case=conv_cases(), shift=st.tuples(st.integers(-3, 3), st.integers(-3, 3)), seed=seeds())
def test_whole_number_offsets_give_a_shifted_conv2d(target, case, shift, seed):
    """The same offset (dh, dw) at every tap and position reads the input moved by (dh, dw)
    (zeros where it has no pixel): conv2d, without padding, of the padded canvas into
    which x was pasted (dh, dw) off its place."""
    device, context = on(target)
    x, w = random(seed, case.input_shape), random(seed + 1, case.weight_shape)
    dh, dw = shift
    offset = np.empty((case.N, 2 * case.KH * case.KW, case.OH, case.OW))
    offset[:, 0::2], offset[:, 1::2] = dh, dw
    canvas = np.zeros((case.N, case.C, case.H + 2 * case.PH, case.W + 2 * case.PW))
    for h, w_ in np.ndindex(canvas.shape[2:]):  # canvas[i, j] = x[i - PH + dh, j - PW + dw]
        source_h, source_w = h - case.PH + dh, w_ - case.PW + dw
        if 0 <= source_h < case.H and 0 <= source_w < case.W:
            canvas[:, :, h, w_] = x[:, :, source_h, source_w]
    with context:
        y = deform_conv2d(
            make_tensor(x, device), make_tensor(offset, device), make_tensor(w, device),
            stride=case.stride, padding=case.padding, dilation=case.dilation,
        )
        expected = F.conv2d(
            make_tensor(canvas, device), make_tensor(w, device), stride=case.stride,
            dilation=case.dilation, groups=case.G,
        )
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("target", TARGETS)
def test_offsets_that_move_each_tap_by_its_own_index_double_the_dilation(target):
    """Tap (kh, kw) moved by (kh*DH, kw*DW) lands where the kernel dilated twice as much
    puts it: a per-tap offset field turns a 3x2 convolution into a more dilated one."""
    device, context = on(target)
    x, w = random(0, (2, 3, 9, 8)), random(1, (4, 3, 3, 2))
    (DH, DW), (PH, PW) = (1, 2), (2, 1)
    dilated = F.conv2d(mt.tensor(x), mt.tensor(w), padding=(PH, PW), dilation=(2 * DH, 2 * DW))
    offset = np.zeros((2, 12, 11, 8))  # the output of the less dilated kernel is larger
    for kh, kw in np.ndindex(3, 2):
        t = kh * 2 + kw
        offset[:, 2 * t], offset[:, 2 * t + 1] = kh * DH, kw * DW
    with context:
        y = deform_conv2d(
            make_tensor(x, device), make_tensor(offset, device), make_tensor(w, device),
            padding=(PH, PW), dilation=(DH, DW),
        )
    OH, OW = dilated.shape[2:]  # its top-left positions are the dilated kernel's
    np.testing.assert_allclose(y.numpy()[:, :, :OH, :OW], dilated.numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("target", TARGETS)
@given(case=deform_cases(offsets=["off-grid", "far"]), layout=layouts(), seed=seeds(),
       with_bias=st.booleans(), with_mask=st.booleans())
def test_deform_conv2d_gradients(target, case, layout, seed, with_bias, with_mask):
    """Input, offset, weight, bias and mask against finite differences (float64). No
    sampling point is within 0.1 of a whole number, where the sample has a kink."""
    device, context = on(target)
    x, offset, mask = case.arrays(seed)
    inputs = [
        make_tensor(x, device, layout),
        make_tensor(offset, device, layout),
        make_tensor(random(seed + 1, case.conv.weight_shape), device),
        make_tensor(random(seed + 2, case.conv.K), device) if with_bias else None,
        make_tensor(mask, device, layout) if with_mask else None,
    ]
    names = ["x", "offset", "w", "b", "mask"]
    given = {name: t for name, t in zip(names, inputs) if t is not None}
    kwargs = deform_kwargs(case)

    def fn(*tensors):
        t = dict(zip(given, tensors))
        return deform_conv2d(t["x"], t["offset"], t["w"], t.get("b"), mask=t.get("mask"), **kwargs)

    with context:
        check_backward(fn, list(given.values()), seed=seed % 1000)


@pytest.mark.parametrize("target", TARGETS)
def test_gradients_named_case(target):
    """Two weight groups, two offset groups, a non-square kernel, stride, padding and
    dilation, samples far outside on some taps; every gradient element by element."""
    device, context = on(target)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 5, 4))
    offset = rng.integers(-6, 7, (1, 2 * 2 * 6, 3, 2)) + rng.uniform(0.1, 0.9, (1, 24, 3, 2))
    w, b, mask = rng.standard_normal((2, 2, 3, 2)), rng.standard_normal(2), rng.uniform(size=(1, 12, 3, 2))
    inputs = [make_tensor(a, device, "strided") for a in (x, offset, w, b, mask)]
    with context:
        check_backward(
            lambda x, o, w, b, m: deform_conv2d(x, o, w, b, (2, 1), (1, 0), (1, 2), mask=m),
            inputs, exhaustive=True,
        )


# ---------------------------------------------------------------- chunking, skipped work
class KernelCalls:
    """Replaces the Numba deform_conv kernels with wrappers that record each call's batch size."""

    NAMES = ("deform_im2col", "deform_col2im", "deform_col2offset")

    def __init__(self, monkeypatch):
        from minitorch_cv.kernels.cpu import deform_conv as kernels

        self.calls = {name: [] for name in self.NAMES}
        for name in self.NAMES:
            monkeypatch.setattr(kernels, name, self._counted(name, getattr(kernels, name)))

    def _counted(self, name, kernel):
        def counted(first, second, *args):  # the second argument (offset, or x) has the batch
            self.calls[name].append(second.shape[0])
            return kernel(first, second, *args)

        return counted

    def counts(self):
        return tuple(len(self.calls[name]) for name in self.NAMES)


@pytest.fixture
def kernel_calls(monkeypatch):
    return KernelCalls(monkeypatch)


@pytest.fixture
def workspace_limit():
    previous = conv_ops.get_workspace_limit()
    yield conv_ops.set_workspace_limit
    conv_ops.set_workspace_limit(previous)


def _forward_backward(x, offset, w, b, mask, gy):
    tensors = [mt.tensor(a, requires_grad=True) for a in (x, offset, w, b, mask)]
    y = deform_conv2d(*tensors[:4], stride=(2, 1), padding=(1, 0), dilation=(1, 2), mask=tensors[4])
    y.backward(mt.tensor(gy))
    return [y.detach().numpy()] + [t.grad.detach().numpy() for t in tensors]


def test_batch_chunks_give_the_same_results(kernel_calls, workspace_limit, threads):
    threads(1)  # the chunks' sizes then follow the workspace limit alone
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    offset = rng.standard_normal((5, 2 * 2 * 6, 4, 4)) * 2
    mask, gy = rng.uniform(size=(5, 12, 4, 4)), rng.standard_normal((5, 6, 4, 4))
    whole = _forward_backward(x, offset, w, b, mask, gy)
    assert [len(c) for c in kernel_calls.calls.values()] == [2, 1, 1]  # forward, weight gradient
    assert all(sizes == [5] * len(sizes) for sizes in kernel_calls.calls.values())

    # Per sample, the forward's workspace is (C*KH*KW + K)*OH*OW = 480 values and the
    # backward's (C*KH*KW + K)*OH*OW + C*H*W = 648 (col or gcol, never both): room for two
    # backward samples is room for two forward ones too, not three.
    workspace_limit(2 * 8 * 648)
    for sizes in kernel_calls.calls.values():
        sizes.clear()
    chunked = _forward_backward(x, offset, w, b, mask, gy)
    assert kernel_calls.calls["deform_im2col"] == [2, 2, 1] * 2  # forward, weight gradient
    assert kernel_calls.calls["deform_col2im"] == [2, 2, 1]
    assert kernel_calls.calls["deform_col2offset"] == [2, 2, 1]
    for a, e in zip(chunked, whole):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "needs, counts",
    [
        # (x, offset, weight, bias, mask) -> calls of (im2col, col2im, col2offset)
        ((True, True, True, True, True), (2, 1, 1)),
        ((False, False, True, False, False), (2, 0, 0)),  # weight only: no column gradient
        ((True, False, False, False, False), (1, 1, 0)),  # input only: no im2col in backward
        ((False, True, False, False, False), (1, 0, 1)),
        ((False, False, False, False, True), (1, 0, 1)),  # the mask's pass gives offsets too
        ((False, False, False, True, False), (1, 0, 0)),  # bias only: the backward runs no kernel
    ],
)
def test_backward_computes_only_what_is_needed(kernel_calls, threads, needs, counts):
    threads(1)  # one chunk per pass (with 2 threads, the batch of 2 would be 2 chunks)
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 18, 3, 3)),
        rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4), rng.uniform(size=(2, 9, 3, 3)),
    ]
    tensors = [mt.tensor(a, requires_grad=needed) for a, needed in zip(arrays, needs)]
    deform_conv2d(*tensors[:4], mask=tensors[4]).sum().backward()
    assert kernel_calls.counts() == counts
    for tensor, needed in zip(tensors, needs):
        assert (tensor.grad is not None) == needed


def test_empty_batch():
    """N = 0 gives an empty output and zero weight and bias gradients (as torchvision)."""
    x = mt.zeros(0, 2, 5, 5, dtype=mt.float64, requires_grad=True)
    offset = mt.zeros(0, 18, 3, 3, dtype=mt.float64, requires_grad=True)
    w = mt.tensor(random(0, (3, 2, 3, 3)), requires_grad=True)
    b = mt.tensor(random(1, 3), requires_grad=True)
    y = deform_conv2d(x, offset, w, b)
    y.sum().backward()
    assert y.shape == (0, 3, 3, 3)
    assert np.all(w.grad.numpy() == 0) and np.all(b.grad.numpy() == 0)
    assert x.grad.shape == (0, 2, 5, 5) and offset.grad.shape == (0, 18, 3, 3)


# ---------------------------------------------------------------- bad input
def error_case(exception, message, **arguments):
    base = dict(input=zeros(1, 2, 5, 5), offset=zeros(1, 18, 3, 3), weight=zeros(4, 2, 3, 3))
    base.update(arguments)
    return pytest.param(base, exception, message, id=message)


DEFORM_CONV2D_ERRORS = [
    error_case(ValueError, r"input must be 4-D", input=zeros(2, 5, 5)),
    error_case(ValueError, r"offset must be 4-D", offset=zeros(18, 3, 3)),
    error_case(ValueError, r"mask must be 4-D", mask=zeros(9, 3, 3)),
    error_case(
        ValueError, r"offset.shape\[1\] must be a positive multiple of 2\*KH\*KW = 18",
        offset=zeros(1, 9, 3, 3),
    ),
    error_case(
        ValueError, r"input channels C = 2 must be divisible by the offset groups OG = .* = 3",
        offset=zeros(1, 54, 3, 3),
    ),
    error_case(
        ValueError, r"offset must have shape \(N, 2\*OG\*KH\*KW, OH, OW\) = \(1, 18, 3, 3\)",
        offset=zeros(1, 18, 3, 4),
    ),
    error_case(ValueError, r"offset must have shape .* = \(1, 18, 3, 3\)", offset=zeros(2, 18, 3, 3)),
    error_case(
        ValueError, r"mask must have shape \(N, OG\*KH\*KW, OH, OW\) = \(1, 9, 3, 3\)",
        mask=zeros(1, 18, 3, 3),
    ),
    error_case(
        ValueError, r"input channels C = 2 to be a multiple of weight.shape\[1\] = 3",
        weight=zeros(4, 3, 3, 3),
    ),
    error_case(
        ValueError, r"out_channels \(weight.shape\[0\] = 3\) must be divisible by the weight groups G",
        weight=zeros(3, 1, 3, 3),
    ),
    error_case(ValueError, r"bias must have shape \(4,\)", bias=zeros(3)),
    error_case(ValueError, r"output would be empty", input=zeros(1, 2, 2, 5)),
    error_case(ValueError, "stride must be >= 1", stride=(1, 0)),
    error_case(ValueError, "padding must be >= 0", padding=-1),
    error_case(ValueError, "dilation must be >= 1", dilation=(0, 1)),
    error_case(TypeError, "stride must be an int or a pair of ints", stride=1.5),
    error_case(TypeError, "offset has dtype float64 but input has dtype float32",
               offset=zeros(1, 18, 3, 3, dtype=mt.float64)),
    error_case(TypeError, "mask has dtype float64", mask=zeros(1, 9, 3, 3, dtype=mt.float64)),
    error_case(TypeError, "offset must be a floating-point tensor", offset=zeros(1, 18, 3, 3, dtype=mt.int64)),
    error_case(TypeError, "weight must be a Tensor", weight=np.zeros((4, 2, 3, 3))),
    error_case(TypeError, "mask must be a Tensor", mask=np.zeros((1, 9, 3, 3))),
]


@pytest.fixture
def no_kernel_may_run(monkeypatch):
    forbid_kernels(monkeypatch)


@pytest.mark.parametrize("arguments, exception, message", DEFORM_CONV2D_ERRORS)
def test_deform_conv2d_bad_input(no_kernel_may_run, arguments, exception, message):
    with pytest.raises(exception, match=message):
        deform_conv2d(**arguments)


@requires_gpu
def test_mixed_devices():
    x, offset, w = mt.zeros(1, 2, 5, 5), mt.zeros(1, 18, 3, 3, device="gpu"), mt.zeros(2, 2, 3, 3)
    with pytest.raises(RuntimeError, match="offset is on gpu but input is on cpu"):
        deform_conv2d(x, offset, w)
