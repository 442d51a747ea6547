"""Tensor basics and constructors: dtypes, devices, conversions, in-place rules, errors."""
import numpy as np
import pytest

import minitorch_cv as mt
from tests.helpers import DEVICES, GPU


def test_python_data_dtypes_follow_pytorch():
    assert mt.tensor([1.0, 2.0]).dtype == mt.float32
    assert mt.tensor([1, 2]).dtype == mt.int64
    assert mt.tensor([True, False]).dtype == mt.bool
    assert mt.tensor([1, 2.5]).dtype == mt.float32
    assert mt.tensor(3.0).shape == ()


def test_numpy_arrays_keep_their_dtype_and_are_copied():
    array = np.arange(3, dtype=np.float64)
    t = mt.tensor(array)
    assert t.dtype == mt.float64
    array[0] = 100
    assert t[0].item() == 0
    shared = mt.from_numpy(array)
    array[1] = 50
    assert shared[1].item() == 50
    assert mt.tensor(np.arange(3, dtype=np.int32)).dtype == mt.int32


@pytest.mark.parametrize("device", DEVICES)
def test_constructors(device):
    assert mt.zeros(2, 3, device=device).shape == (2, 3)
    assert mt.zeros((2, 3), device=device).numpy().sum() == 0
    assert mt.ones(4, device=device).numpy().tolist() == [1, 1, 1, 1]
    assert mt.full((2,), 7.0, device=device).numpy().tolist() == [7, 7]
    assert mt.full((2,), 7, device=device).dtype == mt.int64
    assert mt.empty(3, device=device).shape == (3,)
    for maker in (mt.zeros, mt.ones, mt.empty, mt.randn, mt.rand):
        t = maker(2, 2, device=device)
        assert t.dtype == mt.float32 and t.device == device
    assert mt.randn(2, dtype=mt.float64, device=device).dtype == mt.float64
    r = mt.rand(1000, device=device).numpy()
    assert 0 <= r.min() and r.max() < 1
    i = mt.randint(3, 7, (100,), device=device)
    assert i.dtype == mt.int64 and i.numpy().min() >= 3 and i.numpy().max() < 7
    assert mt.randint(5, (3, 2), device=device).shape == (3, 2)
    assert mt.arange(5, device=device).dtype == mt.int64
    np.testing.assert_allclose(mt.arange(0, 1, 0.25, device=device).numpy(), [0, 0.25, 0.5, 0.75])
    assert mt.arange(0.0, 1.0, 0.25).dtype == mt.float32


@pytest.mark.parametrize("device", DEVICES)
def test_like_constructors(device):
    base = mt.randn(2, 3, dtype=mt.float64, device=device)
    for maker in (mt.zeros_like, mt.ones_like, mt.empty_like, mt.randn_like, mt.rand_like):
        t = maker(base)
        assert t.shape == (2, 3) and t.dtype == mt.float64 and t.device == device
    assert mt.full_like(base, 2.0).numpy().tolist() == [[2.0] * 3] * 2
    assert mt.zeros_like(base, dtype=mt.float32).dtype == mt.float32
    assert mt.randint_like(base, 10).dtype == mt.float64


def test_manual_seed_reproduces_draws():
    mt.manual_seed(123)
    a = (mt.randn(5).numpy(), mt.rand(3).numpy(), mt.randint(0, 100, (4,)).numpy())
    mt.manual_seed(123)
    b = (mt.randn(5).numpy(), mt.rand(3).numpy(), mt.randint(0, 100, (4,)).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    state = mt.get_rng_state()
    c = mt.randn(3).numpy()
    mt.set_rng_state(state)
    np.testing.assert_array_equal(mt.randn(3).numpy(), c)


@pytest.mark.parametrize("device", DEVICES)
def test_metadata_and_conversions(device):
    t = mt.tensor([[1.5, 2.5]], device=device)
    assert t.shape == (1, 2) and t.ndim == 2 and t.numel() == 2 and t.size(1) == 2 and t.dim() == 2
    assert t.device == device
    assert isinstance(t.numpy(), np.ndarray)
    assert t[0, 1].item() == 2.5 and isinstance(t[0, 1].item(), float)
    assert t.double().dtype == mt.float64 and t.double().float().dtype == mt.float32
    assert t.long().numpy().tolist() == [[1, 2]]
    assert t.to(mt.float64).dtype == mt.float64
    assert t.to("cpu").device == "cpu"
    assert t.tolist() == [[1.5, 2.5]]
    assert len(t) == 1
    with pytest.raises(ValueError, match="one element"):
        t.item()


@pytest.mark.parametrize("device", DEVICES)
def test_dtype_conversion_is_differentiable(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x.double() * 3
    y.sum().backward()
    assert x.grad.dtype == mt.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


@pytest.mark.skipif(not GPU, reason="CuPy sees no GPU on this machine")
def test_device_transfer_is_differentiable():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda") * 2
    assert y.device == "gpu"
    y.sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])


@pytest.mark.skipif(not GPU, reason="CuPy sees no GPU on this machine")
def test_mixing_devices_raises_naming_both():
    with pytest.raises(RuntimeError, match="cpu.*gpu|gpu.*cpu"):
        mt.ones(2) + mt.ones(2, device="gpu")


def test_gpu_request_without_a_gpu_is_a_clear_error():
    if GPU:
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="CuPy cannot see a GPU"):
        mt.zeros(2, device="gpu")


def test_device_names():
    from minitorch_cv.devices import normalize

    assert normalize("cuda") == normalize("cuda:0") == normalize("GPU") == "gpu"
    assert normalize("cpu") == "cpu"
    with pytest.raises(ValueError, match="device"):
        normalize("tpu")
    assert mt.cuda.is_available() == GPU


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="floating-point"):
        mt.tensor([1, 2], requires_grad=True)


def test_inplace_updates_are_refused_while_recording():
    w = mt.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    with mt.no_grad():
        w.add_(1.0).mul_(2.0).sub_(mt.ones(3), alpha=0.5).zero_()
    np.testing.assert_array_equal(w.detach().numpy(), np.zeros(3))
    t = mt.zeros(2)
    t.fill_(3.0)
    t.copy_(np.array([1.0, 2.0]))
    assert t.tolist() == [1.0, 2.0]


def test_data_is_a_detached_view():
    w = mt.randn(3, requires_grad=True)
    d = w.data
    assert not d.requires_grad
    d.array[0] = 42.0
    assert w[0].item() == 42.0


def test_repr_shows_values_and_grad_fn():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert "dtype=float64" in repr(mt.zeros(1, dtype=mt.float64))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="size"):
        mt.zeros(-1)
    with pytest.raises(TypeError, match="dtype"):
        mt.zeros(2, dtype=np.complex64)
    with pytest.raises(ValueError, match="high"):
        mt.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="floating"):
        mt.randn(2, dtype=mt.int64)
    with pytest.raises(TypeError, match="NumPy or CuPy array"):
        mt.Tensor([1.0, 2.0])


def test_comparisons_and_logic_give_bool_tensors():
    x = mt.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == mt.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert ((x > 1.5) & (x < 2.5)).tolist() == [False, True, False]
    assert ((x < 1.5) | (x > 2.5)).tolist() == [True, False, True]
    assert (~(x > 1.5)).tolist() == [True, False, False]
    assert (x != 2.0).sum().item() == 2
    assert mt.allclose(x, x + 1e-9)
    assert hash(x) != hash(mt.tensor([1.0, 2.0, 3.0]))
