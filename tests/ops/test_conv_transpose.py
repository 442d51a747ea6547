"""conv_transpose2d: values against direct loops, gradients against finite differences
(float64), the adjoint identity with conv2d, and every bad-input error.

Forward and gradient tests run through each CPU kernel implementation ("reference",
"cpu" = Numba, "cuda" = the CUDA C kernels in the emulator) and on the GPU when there is
one, on geometries drawn by tests/strategies_conv.py.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from tests.ops.conv_testing import (
    TARGETS,
    direct_conv_transpose2d,
    forbid_kernels,
    on,
    random,
    zeros,
)
from tests.strategies import layouts, make_tensor
from tests.strategies_conv import conv_cases, seeds

F = mt.nn.functional


@st.composite
def transpose_cases(draw):
    """A conv case plus an output_padding for conv_transpose2d: any value below the
    stride or the dilation, so that output_padding >= stride (allowed when the
    dilation is larger) comes up too. The transposed output from (OH, OW) has
    H - RH + output_padding rows (likewise columns), so output_padding starts at
    RH - H + 1 to keep it non-empty (RH < SH makes the range non-empty)."""
    case = draw(conv_cases())
    OPH = draw(st.integers(max(0, case.RH - case.H + 1), max(case.SH, case.DH) - 1))
    OPW = draw(st.integers(max(0, case.RW - case.W + 1), max(case.SW, case.DW) - 1))
    return case, (OPH, OPW)


@pytest.mark.parametrize("target", TARGETS)
@given(cases=transpose_cases(), layout=layouts(), seed=seeds(), with_bias=st.booleans())
def test_conv_transpose2d_matches_direct_loops(target, cases, layout, seed, with_bias):
    case, output_padding = cases
    device, context = on(target)
    # conv_transpose2d maps the conv's output (N, K, OH, OW) back towards (N, C, H, W).
    x, w, b = (
        random(seed, case.output_shape),
        random(seed + 1, case.weight_shape),
        random(seed + 2, case.C),
    )
    kwargs = dict(case.conv_transpose2d_kwargs(), output_padding=output_padding)
    with context:
        y = F.conv_transpose2d(
            make_tensor(x, device, layout),
            make_tensor(w, device),
            make_tensor(b, device) if with_bias else None,
            **kwargs,
        )
    bias = b if with_bias else None
    expected = direct_conv_transpose2d(
        x, w, bias, case.stride, case.padding, output_padding, case.dilation, case.G
    )
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("target", TARGETS)
@given(cases=transpose_cases(), layout=layouts(), seed=seeds(), with_bias=st.booleans())
def test_conv_transpose2d_gradients(target, cases, layout, seed, with_bias):
    case, output_padding = cases
    device, context = on(target)
    inputs = [
        make_tensor(random(seed, case.output_shape), device, layout),
        make_tensor(random(seed + 1, case.weight_shape), device),
    ]
    if with_bias:
        inputs.append(make_tensor(random(seed + 2, case.C), device))
    kwargs = dict(case.conv_transpose2d_kwargs(), output_padding=output_padding)
    with context:
        check_backward(
            lambda x, w, b=None: F.conv_transpose2d(x, w, b, **kwargs), inputs, seed=seed % 1000
        )


# ---------------------------------------------------------------- adjoint
@pytest.mark.parametrize("target", ["cpu", "cuda"])
@given(case=conv_cases(), seed=seeds())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(target, case, seed):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)>, with the output_padding that
    brings conv_transpose2d's output back to x's size."""
    x, w, y = (
        random(seed, case.input_shape),
        random(seed + 1, case.weight_shape),
        random(seed + 2, case.output_shape),
    )
    with backend.use_cpu_kernels(target):
        forward = F.conv2d(mt.tensor(x), mt.tensor(w), **case.conv2d_kwargs()).numpy()
        transposed = F.conv_transpose2d(
            mt.tensor(y), mt.tensor(w), **case.conv_transpose2d_kwargs()
        ).numpy()
    assert transposed.shape == case.input_shape
    assert np.vdot(forward, y) == pytest.approx(np.vdot(x, transposed), rel=1e-10, abs=1e-10)


# ---------------------------------------------------------------- bad input
def error_case(exception, message, input, weight, **kwargs):  # noqa: A002 - PyTorch's name
    return pytest.param(dict(input=input, weight=weight, **kwargs), exception, message, id=message)


x2, w2 = zeros(1, 2, 5, 5), zeros(2, 1, 3, 3)
CONV_TRANSPOSE2D_ERRORS = [
    error_case(ValueError, "input must be 4-D", zeros(2, 5), zeros(2, 3, 1, 1)),
    error_case(ValueError, "weight must be 4-D", x2, zeros(2, 3, 3)),
    error_case(
        ValueError, r"expects input with weight.shape\[0\] = 2 channels",
        zeros(1, 3, 5, 5), zeros(2, 3, 1, 1),
    ),
    error_case(
        ValueError, r"in_channels \(input channels C = 3\) must be divisible by groups = 2",
        zeros(1, 3, 5, 5), zeros(3, 1, 1, 1), groups=2,
    ),
    error_case(
        ValueError, "output_padding must be smaller than either stride or dilation",
        x2, w2, stride=2, output_padding=(0, 2),
    ),
    error_case(ValueError, "output_padding must be >= 0", x2, w2, output_padding=-1),
    error_case(
        ValueError, r"output would be empty: \(OH, OW\) = \(-1, -1\)",
        zeros(1, 2, 1, 1), zeros(2, 1, 1, 1), padding=1,
    ),
    error_case(TypeError, "padding must be an int or a pair", x2, w2, padding="same"),
    error_case(ValueError, "stride must be >= 1", x2, w2, stride=0),
    error_case(ValueError, "dilation must be >= 1", x2, w2, dilation=0),
    error_case(ValueError, r"bias must have shape \(3,\)", x2, zeros(2, 3, 3, 3), bias=zeros(2)),
    error_case(TypeError, "weight has dtype float32", zeros(1, 2, 5, 5, dtype=mt.float64), w2),
]


@pytest.fixture
def no_kernel_may_run(monkeypatch):
    forbid_kernels(monkeypatch)


@pytest.mark.parametrize("arguments, exception, message", CONV_TRANSPOSE2D_ERRORS)
def test_conv_transpose2d_bad_input(no_kernel_may_run, arguments, exception, message):
    with pytest.raises(exception, match=message):
        F.conv_transpose2d(**arguments)
