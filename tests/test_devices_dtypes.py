"""PyTorch's device, dtype and Size objects, the default dtype, to()/cuda()/cpu() and
inference_mode, and that code written for the old strings and NumPy dtypes still works."""
import copy
import pickle

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from tests.helpers import DEVICES, GPU


# ------------------------------------------------------------------- devices
def test_pytorch_device_idiom_and_type():
    d = mt.device("cuda" if mt.cuda.is_available() else "cpu")
    x = mt.ones(2).to(d)
    assert x.device == d and isinstance(x.device, mt.device)
    assert x.device.type == ("cuda" if GPU else "cpu")
    assert mt.device("cuda").type == mt.device("gpu").type == "cuda"
    assert mt.device("cpu").type == "cpu"


@pytest.mark.parametrize(
    "spelling", ["gpu", "cuda", "cuda:0", "GPU", "gpu:0", 0, mt.device("cuda", 0)]
)
def test_every_gpu_spelling_is_the_same_device(spelling):
    d = mt.device(spelling)
    assert d == "gpu" and d == "cuda" and d == "cuda:0" and "gpu" == d and "cuda" == d
    assert d != "cpu" and not (d != "cuda")
    assert d == mt.device("gpu") and hash(d) == hash("gpu") and str(d) == "gpu"


def test_device_is_accepted_wherever_a_string_is_and_keys_dicts_like_one():
    cpu = mt.device("cpu")
    assert isinstance(cpu, str) and cpu == "cpu" and hash(cpu) == hash("cpu")
    table = {"cpu": "host", "gpu": "card"}
    assert table[mt.ones(1).device] == "host" and table[mt.device("cuda")] == "card"
    assert {mt.device("cpu"): 1}["cpu"] == 1
    assert mt.zeros(2, device=cpu).device == "cpu"
    assert mt.devices.normalize(mt.device("cuda:0")) == "gpu"
    assert f"{cpu}" == "cpu"
    assert cpu != 3 and cpu != "tpu" and cpu != None  # noqa: E711


def test_device_repr_index_and_pickling():
    assert repr(mt.device("cpu")) == "device(type='cpu')"
    assert repr(mt.device("cuda")) == "device(type='cuda')"
    assert repr(mt.device("cuda:1")) == "device(type='cuda', index=1)"
    assert mt.device("cuda", 2).index == 2 and mt.device("cuda").index is None
    restored = pickle.loads(pickle.dumps(mt.device("cuda", 1)))
    assert type(restored) is mt.device and restored.index == 1 and restored == "gpu"
    assert copy.deepcopy(mt.device("cpu")) == "cpu"


def test_bad_devices_are_named():
    with pytest.raises(ValueError, match="device: expected 'cpu' or 'gpu'.*'tpu'"):
        mt.device("tpu")
    with pytest.raises(ValueError, match="cpu device takes no index"):
        mt.device("cpu", 0)
    with pytest.raises(ValueError, match="non-negative index"):
        mt.device("cuda:x")
    with pytest.raises(TypeError, match="device string"):
        mt.device(1.5)


@pytest.mark.parametrize("device", DEVICES)
def test_to_cuda_cpu_and_non_blocking(device):
    x = mt.randn(3, requires_grad=True)
    y = x.to(device, non_blocking=True)
    assert y.device == device
    y.sum().backward()  # to() stays differentiable
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3, np.float32))
    assert x.to(device=mt.device(device), dtype=mt.float64).dtype == mt.float64
    assert x.to("cpu", mt.float64, True).dtype == np.float64  # positional non_blocking
    assert x.cpu().device == "cpu"
    assert x.to(x) is x and x.to("cpu") is x  # nothing to do: the same tensor
    copied = x.detach().to("cpu", copy=True)
    assert copied is not x and not np.shares_memory(copied.array, x.array)
    if device == "gpu":
        assert x.cuda(non_blocking=True).device.type == "cuda" and x.cuda(0).is_cuda


def test_to_rejects_unknown_arguments():
    x = mt.ones(2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'blocking'"):
        x.to("cpu", blocking=True)
    with pytest.raises(ValueError, match="Tensor.to: expected a device .* got 'tpu'"):
        x.to("tpu")
    with pytest.raises(TypeError, match="dtype: expected one of"):
        x.to(object())
    with pytest.raises(ValueError, match="cuda: device: expected a GPU device"):
        x.cuda("cpu")


def test_module_to_accepts_pytorch_keywords():
    layer = nn.Linear(2, 3)
    assert layer.to(mt.device("cpu"), non_blocking=True) is layer
    layer.to(dtype=mt.float64)
    assert layer.weight.dtype == mt.float64
    layer.to(mt.zeros(1))  # a tensor gives device and dtype
    assert layer.weight.dtype == mt.float32
    with pytest.raises(TypeError, match="floating point"):
        layer.to(mt.int64)


@pytest.mark.skipif(GPU, reason="checks the error raised when no GPU exists")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CuPy cannot see a GPU"):
        mt.ones(1).cuda()


# -------------------------------------------------------------------- dtypes
def test_dtype_names_and_aliases():
    assert repr(mt.float32) == "minitorch_cv.float32" and str(mt.float32) == "float32"
    assert mt.float is mt.float32 and mt.double is mt.float64 and mt.half is mt.float16
    assert mt.int is mt.int32 and mt.long is mt.int64 and mt.short is mt.int16
    assert repr(mt.bool) == "minitorch_cv.bool" and repr(mt.uint8) == "minitorch_cv.uint8"
    assert isinstance(mt.float32, mt.dtype)
    assert mt.float32.is_floating_point and not mt.int64.is_floating_point
    assert mt.int8.is_signed and not mt.uint8.is_signed and not mt.bool.is_signed
    assert mt.float64.itemsize == 8 and not mt.float32.is_complex


def test_tensor_dtype_still_compares_and_hashes_like_numpy():
    x = mt.zeros(2)
    assert x.dtype == np.float32 and np.float32 == x.dtype
    assert x.dtype == np.dtype("float32") and np.dtype("float32") == x.dtype
    assert x.dtype == "float32" and x.dtype == mt.float
    assert x.dtype != np.float64 and x.dtype != None and x.dtype != "nonsense"  # noqa: E711
    assert {np.dtype("float32"): "f4"}[x.dtype] == "f4"
    assert x.dtype in (np.float32, np.float64) and np.dtype("float32") in (x.dtype,)
    # NumPy reads it as a dtype, and the NumPy attributes are still there
    assert np.zeros(2, dtype=x.dtype).dtype == np.float32 and np.dtype(mt.int64) == np.int64
    assert x.dtype.kind == "f" and x.dtype.itemsize == 4 and x.dtype.type is np.float32
    assert np.finfo(x.dtype).eps == np.finfo(np.float32).eps
    assert pickle.loads(pickle.dumps(mt.float64)) is mt.float64


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "int8", "uint8",
                                  "int16", "int32", "int64", "bool"])
def test_every_dtype_round_trips_through_a_tensor(name):
    d = getattr(mt, name)
    x = mt.zeros(2, dtype=d)
    assert x.dtype is d and x.to(d) is x and x.array.dtype == np.dtype(name)


def test_default_dtype():
    assert mt.get_default_dtype() is mt.float32
    try:
        mt.set_default_dtype(mt.float64)
        assert mt.get_default_dtype() is mt.float64
        assert mt.tensor([1.5]).dtype == mt.float64 and mt.randn(2).dtype == mt.float64
        assert nn.Linear(2, 2).weight.dtype == mt.float64
        assert mt.tensor([1]).dtype == mt.int64  # integers are not affected
    finally:
        mt.set_default_dtype(mt.float32)
    assert mt.zeros(1).dtype == mt.float32
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype"):
        mt.set_default_dtype(mt.int64)


# ---------------------------------------------------------------------- Size
def test_size_is_a_tuple_with_pytorch_extras():
    x = mt.zeros(2, 3, 4)
    shape = x.shape
    assert isinstance(shape, mt.Size) and isinstance(shape, tuple)
    assert shape == (2, 3, 4) and x.size() == shape and x.size(1) == 3 and x.size(-1) == 4
    assert repr(shape) == "minitorch_cv.Size([2, 3, 4])" and str(shape) == "(2, 3, 4)"
    assert shape.numel() == 24 and mt.Size([]).numel() == 1
    assert isinstance(shape[1:], mt.Size) and shape[1:] == (3, 4) and shape[0] == 2
    assert isinstance(shape + (5,), mt.Size) and isinstance((1,) + shape, mt.Size)
    assert (1,) + shape == (1, 2, 3, 4)
    n, c, h = shape
    assert (n, c, h) == (2, 3, 4) and hash(shape) == hash((2, 3, 4))
    assert mt.zeros(shape).shape == shape and mt.zeros(2).reshape(mt.Size([1, 2])).shape == (1, 2)
    assert pickle.loads(pickle.dumps(shape)) == shape


# ----------------------------------------------------------- inference_mode
def test_inference_mode_records_no_graph():
    w = mt.ones(2, requires_grad=True)
    with mt.inference_mode():
        assert not mt.is_grad_enabled() and mt.is_inference_mode_enabled()
        y = w * 2
    assert not y.requires_grad and mt.is_grad_enabled() and not mt.is_inference_mode_enabled()
    with mt.inference_mode(False):
        assert mt.is_grad_enabled() and not mt.is_inference_mode_enabled()

    @mt.inference_mode()
    def called():
        return (w * 2).requires_grad

    @mt.inference_mode
    def bare():
        return mt.is_grad_enabled()

    assert called() is False and bare() is False and mt.is_grad_enabled()
    with mt.no_grad(), mt.inference_mode():
        pass
    assert mt.is_grad_enabled()
