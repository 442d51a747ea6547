"""The ``optimizer`` kernel family (sgd_step): every implementation (Numba; CUDA through
the CPU emulation; CUDA on a GPU when there is one) against
kernels/reference/optimizer.py, in float32 and float64, over drawn shapes and every
combination of SGD's options; the reference against PyTorch's update written out; and
what the compiled forms refuse."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cv.devices import to_device
from minitorch_cv.kernels.reference import optimizer as reference
from tests.helpers import KERNEL_IMPLEMENTATIONS, assert_close, kernel_module, to_implementation
from tests.strategies import layouts, shapes, with_layout

DTYPES = [np.float32, np.float64]


@st.composite
def sgd_options(draw):
    momentum = draw(st.sampled_from([0.0, 0.9, 0.5]))
    nesterov = momentum != 0 and draw(st.booleans())
    return dict(
        lr=draw(st.sampled_from([0.1, 0.01])),
        momentum=momentum,
        dampening=0.0 if nesterov else draw(st.sampled_from([0.0, 0.25])),
        weight_decay=draw(st.sampled_from([0.0, 5e-4])),
        nesterov=nesterov,
        maximize=draw(st.booleans()),
        first_step=momentum != 0 and draw(st.booleans()),
    )


def run_sgd_step(implementation, param, grad, buffer, options):
    """(param, buffer) after one step of ``implementation``, as NumPy arrays."""
    param, grad, buffer = (to_implementation(implementation, a.copy()) for a in (param, grad, buffer))
    kernel_module(implementation, "optimizer").sgd_step(param, grad, buffer, **options)
    return to_device(param, "cpu"), to_device(buffer, "cpu")


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_sgd_step_matches_the_reference(implementation, dtype, data):
    shape = data.draw(shapes(max_dims=4), label="shape")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    param, grad, buffer = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    grad = with_layout(grad, data.draw(layouts(), label="grad layout"))  # read only: any layout
    options = data.draw(sgd_options(), label="options")
    expected_param, expected_buffer = param.copy(), buffer.copy()
    reference.sgd_step(expected_param, grad, expected_buffer, **options)
    actual_param, actual_buffer = run_sgd_step(implementation, param, grad, buffer, options)
    if implementation == "cpu":
        # One rounding per operation in the reference's order (kernels/cpu/optimizer.py).
        np.testing.assert_array_equal(actual_param, expected_param)
        np.testing.assert_array_equal(actual_buffer, expected_buffer)
    else:  # nvcc and the emulation's compiler may fuse a multiply-add (one rounding)
        assert_close(actual_param, expected_param, dtype)
        assert_close(actual_buffer, expected_buffer, dtype)


def test_the_reference_is_pytorchs_update():
    """Two steps with momentum 0.9, dampening 0.1, weight decay, not Nesterov, then the
    Nesterov form, against the update written out in float64."""
    p, g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 0.25]), np.array([-1.0, 2.0])
    param, buffer = p.copy(), np.zeros(2)
    reference.sgd_step(param, g1, buffer, 0.1, 0.9, 0.1, 0.01, False, False, True)
    b = g1 + 0.01 * p
    expected = p - 0.1 * b
    np.testing.assert_allclose(param, expected, rtol=1e-15)
    reference.sgd_step(param, g2, buffer, 0.1, 0.9, 0.1, 0.01, False, False, False)
    b = 0.9 * b + 0.9 * (g2 + 0.01 * expected)
    np.testing.assert_allclose(buffer, b, rtol=1e-15)
    np.testing.assert_allclose(param, expected - 0.1 * b, rtol=1e-15)

    param, buffer = p.copy(), np.zeros(2)
    reference.sgd_step(param, g1, buffer, 0.1, 0.9, 0.0, 0.0, True, True, True)  # maximize
    np.testing.assert_allclose(param, p - 0.1 * (-g1 + 0.9 * -g1), rtol=1e-15)


def test_the_reference_takes_float16_and_strided_views():
    param = np.zeros((3, 4), np.float16)[:, ::2]
    grad = np.ones((3, 2), np.float16)
    reference.sgd_step(param, grad, param, 0.5, 0.0, 0.0, 0.0, False, False, False)
    assert param.dtype == np.float16 and (param == -0.5).all()


@pytest.mark.parametrize("implementation", KERNEL_IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "arrays, error, message",
    [
        (lambda: (np.zeros(3), np.zeros(4), np.zeros(3)), ValueError, r"grad: expected shape \(3,\)"),
        (lambda: (np.zeros(3), np.zeros(3, np.float32), np.zeros(3)), TypeError, "grad: expected dtype float64"),
        (lambda: (np.zeros(3, np.int64),) * 3, TypeError, "param: expected a floating dtype"),
        (lambda: (np.zeros(3, np.float16),) * 3, TypeError, "param: expected float32 or float64"),
        (lambda: (np.zeros(6)[::2], np.zeros(3), np.zeros(3)), ValueError, "param: expected a C-contiguous"),
    ],
)
def test_bad_input_is_rejected_before_any_kernel_runs(implementation, arrays, error, message):
    param, grad, buffer = arrays()
    with pytest.raises(error, match=message):
        kernel_module(implementation, "optimizer").sgd_step(param, grad, buffer, 0.1, 0.9, 0, 0, False, False, True)


def test_sgd_step_through_the_kernels_bumps_each_parameters_version():
    """sgd_step writes the parameter in place: its version counter must move, so that a
    graph that saved the parameter before the step refuses to backpropagate through it
    (PyTorch's 'modified by an inplace operation')."""
    import minitorch_cv as mt

    weight = mt.nn.Parameter(mt.tensor(np.arange(1.0, 7.0).reshape(2, 3), dtype=mt.float32))
    (weight * weight).sum().backward()
    stale = (weight * weight).sum()  # saves weight at its current version
    version = weight._version
    mt.optim.SGD([weight], lr=0.1, momentum=0.9).step()
    assert weight._version == version + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stale.backward()
