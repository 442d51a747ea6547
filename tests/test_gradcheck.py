"""The gradient checker itself must be able to fail."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.autograd import Function
from minitorch_cv.gradcheck import GradientCheckError, check_backward, numerical_grad


class _SquareWithWrongGradient(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x * 2.01  # 0.5% off


class _ScaleBy(Function):
    """x * scale where scale is declared non-differentiable (like a loss target)."""

    @staticmethod
    def forward(ctx, x, scale, leak):
        ctx.save_for_backward(x, scale)
        ctx.leak = leak
        return x * scale

    @staticmethod
    def backward(ctx, grad):
        x, scale = ctx.saved_tensors
        return grad * scale, (grad * x if ctx.leak else None), None


@pytest.mark.parametrize("exhaustive", [False, True])
def test_a_wrong_gradient_is_caught(exhaustive):
    with pytest.raises(GradientCheckError) as failure:
        check_backward(_SquareWithWrongGradient.apply, [mt.randn(3, 2)], exhaustive=exhaustive)
    message = str(failure.value)
    for expected in ("numerical", "analytical", "eps=1e-06", "atol=1e-05", "rtol=0.0001", "shape=(3, 2)", "dtype=float32"):
        assert expected in message


def test_a_correct_gradient_passes_in_both_modes():
    fn = lambda a, b: (a * b).exp().sum(0)  # noqa: E731
    inputs = [mt.randn(3, 2), mt.randn(2)]
    check_backward(fn, inputs)
    check_backward(fn, inputs, exhaustive=True)


def test_no_grads_inputs_must_not_receive_a_gradient():
    honest = lambda x, s: _ScaleBy.apply(x, s, False)  # noqa: E731
    leaky = lambda x, s: _ScaleBy.apply(x, s, True)  # noqa: E731
    check_backward(honest, [mt.randn(3), mt.randn(3)], no_grads=[1])
    with pytest.raises(GradientCheckError, match="no_grads"):
        check_backward(leaky, [mt.randn(3), mt.randn(3)], no_grads=[1])


def test_numerical_grad_of_a_known_function():
    x = mt.tensor([1.0, 2.0, 3.0], dtype=mt.float64)
    (grad,) = numerical_grad(lambda t: (t * t).sum(), [x])
    np.testing.assert_allclose(grad, [2.0, 4.0, 6.0], atol=1e-6)


def test_checks_run_in_float64_even_for_float32_inputs():
    seen = []

    def fn(x):
        seen.append(x.dtype)
        return x * 2

    check_backward(fn, [mt.randn(4)])
    assert set(seen) == {mt.float64}
