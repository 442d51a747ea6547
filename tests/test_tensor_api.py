"""The everyday tensor API added for PyTorch parity: clone, new_* constructors, type(),
element_size, tolist, is_tensor, numel, bernoulli(_), top-level softmax/log_softmax."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES


@pytest.mark.parametrize("device", DEVICES)
def test_clone_copies_and_passes_the_gradient(device):
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    y = x.clone()
    assert y.grad_fn.name() == "CloneBackward" and y.is_contiguous()
    with mt.no_grad():
        y.add_(1.0)
    assert x[0, 0].item() == 1.0 and x._version == 0
    check_backward(lambda t: mt.clone(t.transpose(0, 1)) * 2.0, [x])


@pytest.mark.parametrize("device", DEVICES)
def test_new_constructors_keep_dtype_and_device(device):
    x = mt.zeros(2, dtype=mt.float64, device=device)
    for made, fill in ((x.new_zeros(2, 3), 0), (x.new_ones((2, 3)), 1), (x.new_full((2, 3), 7.5), 7.5),
                       (x.new_empty(2, 3), None)):
        assert made.shape == (2, 3) and made.dtype == mt.float64 and made.device == device
        if fill is not None:
            assert made.numpy().tolist() == [[fill] * 3] * 2
    assert x.new_zeros(3, dtype=mt.int64).dtype == mt.int64
    t = x.new_tensor([1, 2])
    assert t.dtype == mt.float64 and t.device == device and t.tolist() == [1.0, 2.0]
    assert x.new_ones(1, requires_grad=True).requires_grad


def test_type_names_and_conversions():
    x = mt.zeros(2)
    assert x.type() == "minitorch_cv.FloatTensor"
    assert mt.zeros(1, dtype=mt.int64).type() == "minitorch_cv.LongTensor"
    assert mt.zeros(1, dtype=mt.bool).type() == "minitorch_cv.BoolTensor"
    assert x.type(mt.float64).dtype == mt.float64
    assert x.type("torch.DoubleTensor").dtype == mt.float64  # PyTorch's spelling works too
    assert x.type("minitorch_cv.IntTensor").dtype == mt.int32
    with pytest.raises(ValueError, match="unknown tensor type"):
        x.type("torch.ComplexTensor")


def test_small_helpers():
    x = mt.zeros(2, 3, dtype=mt.float64)
    assert x.element_size() == 8 and mt.zeros(1, dtype=mt.int8).element_size() == 1
    assert mt.is_tensor(x) and not mt.is_tensor(np.zeros(2))
    assert mt.numel(x) == 6 and x.numel() == 6
    assert mt.tensor([[1.5, 2.0]], requires_grad=True).tolist() == [[1.5, 2.0]]
    logits = mt.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(mt.softmax(logits, 1).numpy(), mt.nn.functional.softmax(logits, 1).numpy())
    np.testing.assert_allclose(mt.log_softmax(logits, dim=-1).numpy(), mt.nn.functional.log_softmax(logits, -1).numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_bernoulli(device):
    mt.manual_seed(0)
    p = mt.tensor([0.0, 1.0, 0.5], device=device).expand(4000, 3)
    draws = mt.bernoulli(p)
    assert draws.dtype == mt.float32 and draws.device == device
    means = draws.numpy().mean(axis=0)
    assert means[0] == 0.0 and means[1] == 1.0 and abs(means[2] - 0.5) < 0.05  # 6 standard errors
    x = mt.empty(4000, device=device)
    assert x.bernoulli_(0.25) is x and x._version == 1
    assert abs(x.numpy().mean() - 0.25) < 0.05 and set(np.unique(x.numpy())) <= {0.0, 1.0}
    assert p.bernoulli().shape == (4000, 3)
    with pytest.raises(RuntimeError, match="p_in"):
        mt.bernoulli(mt.tensor([1.5]))
    mt.manual_seed(5)
    first = mt.bernoulli(mt.full((10,), 0.5)).tolist()
    mt.manual_seed(5)
    assert mt.bernoulli(mt.full((10,), 0.5)).tolist() == first
