"""F.embedding / nn.Embedding and F.one_hot: lookups against NumPy indexing, weight
gradients in float64 (repeated indices add up, padding_idx gets none,
scale_grad_by_freq divides by the counts), max_norm renormalization, index checks."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES

F = mt.nn.functional


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_embedding_lookup_and_gradients(device, data):
    count, dim = data.draw(st.integers(1, 5), label="rows"), data.draw(st.integers(1, 4), label="dim")
    index_shape = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=2), label="index shape")
    codes = np.asarray(data.draw(st.lists(st.integers(0, count - 1), min_size=int(np.prod(index_shape)),
                                          max_size=int(np.prod(index_shape))))).reshape(index_shape)
    padding_idx = data.draw(st.one_of(st.none(), st.integers(-count, count - 1)), label="padding_idx")
    by_freq = data.draw(st.booleans(), label="scale_grad_by_freq")
    weight_values = np.random.default_rng(count * 7 + dim).standard_normal((count, dim))
    weight = mt.tensor(weight_values, device=device)
    codes_tensor = mt.tensor(codes, device=device)
    out = F.embedding(codes_tensor, weight, padding_idx, scale_grad_by_freq=by_freq)
    np.testing.assert_array_equal(out.numpy(), weight_values[codes])
    if padding_idx is None and not by_freq:  # (otherwise not the derivative, by definition)
        check_backward(lambda w: F.embedding(codes_tensor, w), [weight])
    # the gradient by PyTorch's definition
    w = mt.tensor(weight_values, device=device, requires_grad=True)
    upstream = np.random.default_rng(1).standard_normal(codes.shape + (dim,))
    (F.embedding(codes_tensor, w, padding_idx, scale_grad_by_freq=by_freq) * mt.tensor(upstream, device=device)).sum().backward()
    expected = np.zeros((count, dim))
    counts = np.bincount(codes.reshape(-1), minlength=count)
    for code, g in zip(codes.reshape(-1), upstream.reshape(-1, dim)):
        expected[code] += g / (counts[code] if by_freq else 1)
    if padding_idx is not None:
        expected[padding_idx % count] = 0
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_max_norm_renormalizes_looked_up_rows_in_place():
    weight = mt.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    out = F.embedding(mt.tensor([0, 1]), weight, max_norm=1.0)
    np.testing.assert_allclose(np.linalg.norm(out.numpy(), axis=1), [1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(weight.numpy()[2], [6.0, 8.0])  # not looked up: unchanged
    assert weight._version == 1


def test_embedding_module():
    mt.manual_seed(0)
    layer = mt.nn.Embedding(10, 3, padding_idx=-1)
    assert layer.padding_idx == 9 and layer.weight.shape == (10, 3)
    assert layer.weight[9].tolist() == [0.0, 0.0, 0.0]
    assert 0.5 < float(layer.weight.detach().numpy()[:9].std()) < 1.5  # N(0, 1)
    assert repr(layer) == "Embedding(10, 3, padding_idx=9)"
    pretrained = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = mt.nn.Embedding.from_pretrained(pretrained)
    assert not frozen.weight.requires_grad and frozen(mt.tensor([1])).tolist() == [[3.0, 4.0]]
    assert mt.nn.Embedding.from_pretrained(pretrained, freeze=False).weight.requires_grad
    assert list(layer.state_dict()) == ["weight"]


@pytest.mark.parametrize("device", DEVICES)
def test_indices_are_checked_where_they_are_used(device):
    weight = mt.randn(4, 2, device=device, requires_grad=True)
    with pytest.raises(IndexError, match="out of bounds"):
        F.embedding(mt.tensor([0, 4], device=device), weight)
    with pytest.raises(IndexError, match="out of bounds"):
        F.embedding(mt.tensor([-1], device=device), weight)
    array = np.array([1, 2], dtype=np.int64)
    codes = mt.from_numpy(array) if device == "cpu" else mt.tensor(array, device=device)
    out = F.embedding(codes, weight)
    codes.array[1] = 10**12  # memory changed behind the version counter's back
    with pytest.raises(IndexError, match="embedding backward"):
        out.sum().backward()
    with pytest.raises(TypeError, match="Long, Int"):
        F.embedding(mt.tensor([0.0]), weight)
    with pytest.raises(ValueError, match="sparse"):
        F.embedding(mt.tensor([0]), weight, sparse=True)


@pytest.mark.parametrize("device", DEVICES)
def test_one_hot(device):
    labels = mt.tensor([[0, 2], [1, 0]], device=device)
    out = F.one_hot(labels, 3)
    assert out.dtype == mt.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[[0, 2], [1, 0]]])
    assert F.one_hot(mt.tensor([1, 3], device=device)).shape == (2, 4)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(labels, 2)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(mt.tensor([-1], device=device), 3)
    with pytest.raises(TypeError, match="LongTensor"):
        F.one_hot(mt.tensor([0.0]), 2)
