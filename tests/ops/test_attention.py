"""scaled_dot_product_attention: values against softmax(q k^T * scale + mask) v written
out here, gradients against finite differences (float64), PyTorch's edge cases
(causal with L != S, broadcast batch dims, 2-D inputs, fully masked rows), dropout, and
the bad-input errors."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from minitorch_cv.ops.attention import attention_and_weights
from tests.helpers import DEVICES, assert_close, requires_gpu
from tests.strategies import arrays, broadcastable_to, layouts, make_tensor

F = mt.nn.functional
sdpa = F.scaled_dot_product_attention


def expected_attention(q, k, v, mask=None, causal=False, scale=None, return_weights=False):
    """softmax(q k^T * scale + mask) v in float64, with a zero row where every key is
    masked (what PyTorch returns there)."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    if mask is not None and mask.dtype == bool:
        scores = np.where(mask, scores, -np.inf)
    elif mask is not None:
        scores = scores + mask
    if causal:
        L, S = scores.shape[-2:]
        scores = np.where(np.arange(S)[None, :] <= np.arange(L)[:, None], scores, -np.inf)
    masked = scores == -np.inf
    finite_max = np.where(masked, -1e300, scores).max(axis=-1, keepdims=True)
    weights = np.where(masked, 0.0, np.exp(scores - finite_max))
    total = weights.sum(axis=-1, keepdims=True)
    weights = weights / np.where(total == 0, 1.0, total)
    out = np.matmul(weights, v)
    return (out, weights) if return_weights else out


@st.composite
def attention_geometries(draw, max_length=7, max_dim=6):
    """Shapes of query, key, value and mask: 0 to 3 leading dims that broadcast between
    the three, L != S, length 1, and a mask broadcastable to (..., L, S)."""
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    L, S = draw(st.integers(1, max_length)), draw(st.integers(1, max_length))
    E, Ev = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    q_shape = batch + (L, E)
    k_shape = draw(broadcastable_to(batch)) + (S, E)
    v_shape = draw(broadcastable_to(batch)) + (S, Ev)
    mask_kind = draw(st.sampled_from([None, "bool", "float"]))
    mask_shape = draw(broadcastable_to(batch + (L, S))) if mask_kind else None
    causal = mask_kind is None and draw(st.booleans())
    scale = draw(st.sampled_from([None, 0.4, 2.0]))
    return q_shape, k_shape, v_shape, mask_kind, mask_shape, causal, scale


def _draw_mask(data, kind, shape):
    if kind is None:
        return None
    if kind == "bool":
        return data.draw(arrays(shape), label="mask") > -1.0  # about 1/4 masked out
    values = data.draw(arrays(shape), label="bias")
    masked = data.draw(arrays(shape), label="masked") < -1.5
    return np.where(masked, -np.inf, values)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_matches_formula_and_gradients(device, data):
    q_shape, k_shape, v_shape, kind, mask_shape, causal, scale = data.draw(attention_geometries())
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    layout = data.draw(layouts(), label="layout")
    q, k, v = (data.draw(arrays(s), label=n) for s, n in ((q_shape, "q"), (k_shape, "k"), (v_shape, "v")))
    mask = _draw_mask(data, kind, mask_shape)

    def tensors(as_dtype):
        made = [make_tensor(q.astype(as_dtype), device, layout), make_tensor(k.astype(as_dtype), device),
                make_tensor(v.astype(as_dtype), device, layout)]
        if kind == "float":
            made.append(make_tensor(mask.astype(as_dtype), device))
        return made

    bool_mask = make_tensor(mask, device) if kind == "bool" else None

    def fn(*inputs):
        attn_mask = inputs[3] if kind == "float" else bool_mask
        return sdpa(inputs[0], inputs[1], inputs[2], attn_mask=attn_mask, is_causal=causal, scale=scale)

    out = fn(*tensors(dtype))
    expected = expected_attention(q, k, v, mask, causal, scale)
    assert out.shape == expected.shape and out.dtype == dtype
    assert_close(out, expected.astype(dtype), dtype)
    check_backward(fn, tensors(np.float64))


@pytest.mark.parametrize("implementation", ["reference", "cuda"])
@pytest.mark.parametrize(
    "q_shape, k_shape, v_shape, mask_shape, causal",
    [
        ((2, 5, 3), (2, 4, 3), (2, 4, 2), None, True),  # causal with L > S
        ((1, 2, 3, 4), (1, 2, 6, 4), (2, 6, 5), (2, 1, 6), False),  # float bias, broadcast v
    ],
)
def test_other_kernel_implementations(implementation, q_shape, k_shape, v_shape, mask_shape, causal):
    """The op through the reference and the CUDA kernels (emulated on the CPU)."""
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal(s) for s in (q_shape, k_shape, v_shape))
    mask = None if mask_shape is None else rng.standard_normal(mask_shape)
    inputs = [mt.tensor(a) for a in (q, k, v)] + ([] if mask is None else [mt.tensor(mask)])

    def fn(*args):
        return sdpa(*args[:3], attn_mask=args[3] if len(args) > 3 else None, is_causal=causal)

    with backend.use_cpu_kernels(implementation):
        assert_close(fn(*inputs), expected_attention(q, k, v, mask, causal))
        check_backward(fn, inputs)


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
def test_fully_masked_rows_give_zeros_not_nan(implementation):
    rng = np.random.default_rng(5)
    q, k, v = (mt.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True) for _ in range(3))
    mask = np.ones((4, 4), dtype=bool)
    mask[1] = False
    with backend.use_cpu_kernels(implementation):
        out = sdpa(q, k, v, attn_mask=mt.tensor(mask))
        out.sum().backward()
    assert np.all(out.detach().numpy()[:, 1] == 0) and np.all(np.isfinite(out.detach().numpy()))
    assert np.all(q.grad.numpy()[:, 1] == 0) and np.all(np.isfinite(k.grad.numpy()))
    assert_close(out, expected_attention(q.detach().numpy(), k.detach().numpy(), v.detach().numpy(), mask))


@pytest.mark.parametrize("implementation", ["reference", "cpu", "cuda"])
def test_empty_lengths(implementation):
    """No keys (S = 0): every row is fully masked, so zeros (as PyTorch); no queries
    (L = 0): an empty output."""
    q = mt.randn(2, 3, 4, requires_grad=True)
    with backend.use_cpu_kernels(implementation):
        out = sdpa(q, mt.randn(2, 0, 4), mt.randn(2, 0, 5))
        out.sum().backward()
        weights = attention_and_weights(q, mt.randn(2, 0, 4), mt.randn(2, 0, 5))[1]
        empty = sdpa(mt.randn(2, 0, 4), mt.randn(2, 3, 4), mt.randn(2, 3, 5))
    assert out.shape == (2, 3, 5) and np.all(out.detach().numpy() == 0) and np.all(q.grad.detach().numpy() == 0)
    assert weights.shape == (2, 3, 0)
    assert empty.shape == (2, 0, 5)


def test_causal_is_top_left_aligned_when_l_differs_from_s():
    rng = np.random.default_rng(6)
    q, k, v = rng.standard_normal((3, 2)), rng.standard_normal((5, 2)), rng.standard_normal((5, 4))
    out = sdpa(mt.tensor(q), mt.tensor(k), mt.tensor(v), is_causal=True)
    # query 0 attends to key 0 only
    assert_close(out[0], v[0])
    allowed = np.tril(np.ones((3, 5), dtype=bool))
    assert_close(out, expected_attention(q, k, v, allowed))


def test_head_dims_over_the_cuda_limit_fall_back_to_the_explicit_path():
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((1, 2, 130)) * 0.1, rng.standard_normal((1, 3, 130)) * 0.1, rng.standard_normal((1, 3, 2))
    with backend.use_cpu_kernels("cuda"):
        out = sdpa(mt.tensor(q), mt.tensor(k), mt.tensor(v))
    assert_close(out, expected_attention(q, k, v))


def test_attention_and_weights_values_and_gradients():
    """The explicit path: the same output, plus the weights, both differentiable."""
    rng = np.random.default_rng(8)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    bias = rng.standard_normal((3, 5))
    bias[2] = -np.inf
    out, weights = attention_and_weights(mt.tensor(q), mt.tensor(k), mt.tensor(v), attn_mask=mt.tensor(bias), scale=0.7)
    expected_out, expected_weights = expected_attention(q, k, v, bias, scale=0.7, return_weights=True)
    assert_close(out, expected_out)
    assert_close(weights, expected_weights)

    def both(*args):
        return attention_and_weights(*args[:3], attn_mask=args[3] if len(args) > 3 else None, scale=0.7)

    check_backward(both, [mt.tensor(a) for a in (q, k, v, bias)])
    check_backward(
        lambda a, b, c: attention_and_weights(a, b, c, is_causal=True),
        [mt.tensor(q), mt.tensor(k), mt.tensor(v)],
    )


# --------------------------------------------------------------------------- dropout
def test_dropout_zeroes_weights_and_rescales_the_rest():
    """With v the identity, out = dropout(p): each weight is 0 or p / (1 - dropout_p),
    and about dropout_p of them are 0 (10,000 weights: 6 standard deviations is 0.03)."""
    rng = np.random.default_rng(9)
    L = S = 100
    q, k = rng.standard_normal((L, 3)), rng.standard_normal((S, 3))
    mt.manual_seed(0)
    out = sdpa(mt.tensor(q), mt.tensor(k), mt.tensor(np.eye(S)), dropout_p=0.3).numpy()
    _, weights = expected_attention(q, k, np.eye(S), return_weights=True)
    kept = out != 0
    np.testing.assert_allclose(out[kept], weights[kept] / 0.7, rtol=1e-10)
    assert abs((~kept).mean() - 0.3) < 0.03


def test_dropout_gradients_with_a_fixed_mask():
    rng = np.random.default_rng(10)
    inputs = [mt.tensor(rng.standard_normal(s)) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2), (4, 5))]

    def fn(q, k, v, bias):
        mt.manual_seed(1)  # the same dropout mask in every evaluation
        return sdpa(q, k, v, attn_mask=bias, dropout_p=0.4)

    check_backward(fn, inputs)


# ----------------------------------------------------------------------- bad inputs
def test_bad_inputs_raise_before_any_kernel_runs():
    q, k, v = mt.randn(2, 3, 4), mt.randn(2, 5, 4), mt.randn(2, 5, 6)
    with pytest.raises(TypeError, match="query must be a Tensor"):
        sdpa(np.zeros((2, 3, 4)), k, v)
    with pytest.raises(RuntimeError, match="at least 2 dims"):
        sdpa(mt.randn(4), k, v)
    with pytest.raises(RuntimeError, match=r"must share E.*\(2, 3, 4\) and \(2, 5, 3\)"):
        sdpa(q, mt.randn(2, 5, 3), v)
    with pytest.raises(RuntimeError, match=r"must share S.*\(2, 5, 4\) and \(2, 6, 6\)"):
        sdpa(q, k, mt.randn(2, 6, 6))
    with pytest.raises(RuntimeError, match="batch dims"):
        sdpa(q, mt.randn(3, 5, 4), mt.randn(3, 5, 6))
    with pytest.raises(TypeError, match="same dtype"):
        sdpa(q, k.double(), v)
    with pytest.raises(TypeError, match="float32 or float64"):
        sdpa(mt.ones(2, 3, 4, dtype=mt.int64), k, v)
    with pytest.raises(RuntimeError, match="is_causal"):
        sdpa(q, k, v, attn_mask=mt.ones(3, 5, dtype=mt.bool_), is_causal=True)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(4, 5\)"):
        sdpa(q, k, v, attn_mask=mt.ones(4, 5, dtype=mt.bool_))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        sdpa(q, k, v, attn_mask=mt.ones(3, 5, dtype=mt.int64))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        sdpa(q, k, v, attn_mask=mt.ones(3, 5, dtype=mt.float64))
    with pytest.raises(ValueError, match="dropout_p"):
        sdpa(q, k, v, dropout_p=1.5)
    with pytest.raises(ValueError, match="head dim"):
        sdpa(mt.randn(2, 3, 0), mt.randn(2, 5, 0), v)


@requires_gpu
def test_mixed_devices_raise():
    q = mt.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="same device"):
        sdpa(q, q.to("gpu"), q)
