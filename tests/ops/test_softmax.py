"""softmax / log_softmax: values against plain NumPy over any dim and layout, gradients
against finite differences (float64), stability, PyTorch's edge cases, bad input."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.nn.functional as F
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES, assert_close
from tests.strategies import arrays, layouts, make_tensor, shapes

OPS = {"softmax": F.softmax, "log_softmax": F.log_softmax}


def numpy_softmax(x, dim):
    """The definition, written independently of the kernels."""
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def numpy_log_softmax(x, dim):
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


EXPECTED = {"softmax": numpy_softmax, "log_softmax": numpy_log_softmax}


@st.composite
def tensors_and_dims(draw):
    """(values, layout, dim): 0 to 4 dims (size-1 dims often), values up to +-20 (so
    some slices are nearly one-hot), a memory layout, and any dim, negative included."""
    shape = draw(shapes(max_side=5))
    values = draw(arrays(shape, low=-20.0, high=20.0))
    bound = max(len(shape), 1)
    dim = draw(st.integers(-bound, bound - 1))
    return values, draw(layouts()), dim


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", OPS)
@given(case=tensors_and_dims())
def test_values_match_numpy_over_any_dim_and_layout(name, dtype, device, case):
    values, layout, dim = case
    x = make_tensor(values.astype(dtype), device, layout)
    y = OPS[name](x, dim)
    assert y.shape == x.shape and y.dtype == dtype
    assert_close(y, EXPECTED[name](values, dim if values.ndim else None).astype(dtype), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", OPS)
@given(case=tensors_and_dims())
def test_gradients_match_finite_differences(name, device, case):
    values, layout, dim = case
    x = make_tensor(values, device, layout)
    check_backward(lambda a: OPS[name](a, dim), [x])


@pytest.mark.parametrize("name", OPS)
def test_through_emulated_cuda_kernels(name):
    """The op and its gradient with backend.use_cpu_kernels("cuda"), on a strided input
    with more columns than a block has threads."""
    values = np.random.default_rng(1).standard_normal((2, 300, 3))
    x = make_tensor(values, layout="permuted")
    with backend.use_cpu_kernels("cuda"):
        assert_close(OPS[name](x, 1), EXPECTED[name](values, 1))
        check_backward(lambda a: OPS[name](a, 1), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_near_1e4_stay_finite(dtype):
    offsets = np.array([[0.0, 1.0, -3.0], [2.0, 2.0, 2.0]])
    x = mt.tensor(1e4 + offsets, dtype=dtype)
    assert_close(F.softmax(x, 1), numpy_softmax(offsets, 1).astype(dtype), dtype)
    assert_close(F.log_softmax(x, 1), numpy_log_softmax(offsets, 1).astype(dtype), dtype)
    check_backward(lambda a: F.log_softmax(a, 1), [mt.tensor(1e4 + offsets)])


def test_minus_infinity_matches_pytorch():
    """-inf logits get probability 0; a row of all -inf is NaN (as PyTorch gives)."""
    x = mt.tensor([[-np.inf, 0.0, 0.0], [-np.inf, -np.inf, -np.inf]])
    probs, log_probs = F.softmax(x, 1).numpy(), F.log_softmax(x, 1).numpy()
    np.testing.assert_array_equal(probs[0], [0.0, 0.5, 0.5])
    assert log_probs[0, 0] == -np.inf
    assert np.all(np.isnan(probs[1])) and np.all(np.isnan(log_probs[1]))


def test_implicit_dim_follows_pytorch_with_a_warning():
    """dim=None: dim 0 for 0-D, 1-D and 3-D inputs, dim 1 otherwise."""
    for shape, dim in (((), 0), ((4,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)):
        values = np.random.default_rng(0).standard_normal(shape)
        with pytest.warns(UserWarning, match="implicit dimension"):
            y = F.softmax(mt.tensor(values))
        assert_close(y, numpy_softmax(values, dim if shape else None))


def test_scalar_and_empty_inputs():
    assert F.softmax(mt.tensor(3.0), 0).item() == 1.0
    assert F.log_softmax(mt.tensor(3.0), 0).item() == 0.0
    for shape in ((3, 0), (0, 4)):
        x = mt.zeros(*shape, requires_grad=True)
        y = F.softmax(x, 1)
        assert y.shape == shape
        y.sum().backward()
        assert x.grad.shape == shape


def test_dtype_argument_casts_first_and_float16_computes_in_float32():
    x = mt.tensor([[1, 2, 3]])
    y = F.softmax(x, 1, dtype=mt.float64)
    assert y.dtype == mt.float64
    assert_close(y, numpy_softmax(np.array([[1.0, 2.0, 3.0]]), 1))
    half = F.log_softmax(mt.tensor([[1.0, 2.0]], dtype=mt.float16), 1)
    assert half.dtype == mt.float16
    np.testing.assert_allclose(half.numpy(), numpy_log_softmax(np.array([[1.0, 2.0]]), 1), rtol=1e-3)


def test_tensor_methods():
    values = np.random.default_rng(2).standard_normal((3, 4))
    x = mt.tensor(values)
    assert_close(x.softmax(0), numpy_softmax(values, 0))
    assert_close(x.log_softmax(-1), numpy_log_softmax(values, -1))


def test_bad_input():
    x = mt.randn(2, 3)
    with pytest.raises(IndexError, match="dim"):
        F.softmax(x, 2)
    with pytest.raises(IndexError, match="dim"):
        F.log_softmax(x, -3)
    with pytest.raises(TypeError, match="floating-point input"):
        F.softmax(mt.tensor([[1, 2]]), 1)
    with pytest.raises(TypeError, match="dtype must be a floating-point"):
        F.softmax(x, 1, dtype=mt.int64)
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.log_softmax(np.ones(3), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit dim never warns
        F.softmax(x, 1)
