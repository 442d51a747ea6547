"""nn.MultiheadAttention: PyTorch's parameter names, shapes, state_dict keys and
initialization; forward against the computation written out in NumPy (masks,
need_weights averaging, batch_first, unbatched inputs, kdim/vdim); gradients; dropout
in training only; bad inputs."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import backend, nn
from minitorch_cv.gradcheck import check_backward
from tests.helpers import assert_close


def numpy_mha(module, query, key, value, key_padding_mask=None, attn_mask=None):
    """MultiheadAttention written out in NumPy, batch first: query (N, L, E), key
    (N, S, kdim), value (N, S, vdim); bool masks are True where attention is NOT
    allowed. Returns the output (N, L, E) and the per-head weights (N, NH, L, S)."""
    E, NH = module.embed_dim, module.num_heads
    HD = E // NH
    params = {name: p.detach().numpy() for name, p in module.named_parameters()}
    if module._qkv_same_embed_dim:
        w_q, w_k, w_v = np.split(params["in_proj_weight"], 3)
    else:
        w_q, w_k, w_v = params["q_proj_weight"], params["k_proj_weight"], params["v_proj_weight"]
    b_q, b_k, b_v = np.split(params.get("in_proj_bias", np.zeros(3 * E)), 3)
    q, k, v = query @ w_q.T + b_q, key @ w_k.T + b_k, value @ w_v.T + b_v
    N, L, _ = q.shape
    S = k.shape[1]
    output = np.zeros((N, L, E))
    weights = np.zeros((N, NH, L, S))
    for n in range(N):
        for h in range(NH):
            cols = slice(h * HD, (h + 1) * HD)
            scores = q[n, :, cols] @ k[n, :, cols].T / math.sqrt(HD)
            for mask in (key_padding_mask, attn_mask):
                if mask is None:
                    continue
                m = mask[n][None, :] if mask is key_padding_mask else mask
                if m.ndim == 3:
                    m = m[n * NH + h]
                scores = np.where(m, -np.inf, scores) if m.dtype == bool else scores + m
            e = np.exp(scores - scores.max(axis=-1, keepdims=True))
            weights[n, h] = e / e.sum(axis=-1, keepdims=True)
            output[n, :, cols] = weights[n, h] @ v[n, :, cols]
    output = output @ params["out_proj.weight"].T + params.get("out_proj.bias", 0.0)
    return output, weights


def test_parameter_names_shapes_and_state_dict_keys():
    mha = nn.MultiheadAttention(8, 2)
    assert [(n, p.shape) for n, p in mha.named_parameters()] == [
        ("in_proj_weight", (24, 8)),
        ("in_proj_bias", (24,)),
        ("out_proj.weight", (8, 8)),
        ("out_proj.bias", (8,)),
    ]
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(mha.out_proj, nn.Linear)
    assert "(out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)" in repr(mha)

    separate = nn.MultiheadAttention(8, 4, kdim=5, vdim=3)
    assert [(n, p.shape) for n, p in separate.named_parameters()] == [
        ("q_proj_weight", (8, 8)),
        ("k_proj_weight", (8, 5)),
        ("v_proj_weight", (8, 3)),
        ("in_proj_bias", (24,)),
        ("out_proj.weight", (8, 8)),
        ("out_proj.bias", (8,)),
    ]
    assert list(nn.MultiheadAttention(8, 2, bias=False).state_dict()) == ["in_proj_weight", "out_proj.weight"]


def test_initialization():
    mt.manual_seed(0)
    mha = nn.MultiheadAttention(64, 4)
    weight = mha.in_proj_weight.detach().numpy()
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_: fan_in 64, fan_out 192
    assert np.abs(weight).max() <= bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(-b, b) has std b/sqrt(3)
    assert np.all(mha.in_proj_bias.detach().numpy() == 0) and np.all(mha.out_proj.bias.detach().numpy() == 0)
    assert np.abs(mha.out_proj.weight.detach().numpy()).max() <= 1 / math.sqrt(64)  # Linear's default
    assert mha.in_proj_weight.dtype == mt.float32


@pytest.mark.parametrize("batch_first", [False, True])
def test_forward_matches_numpy_with_masks_and_weights(batch_first):
    mt.manual_seed(1)
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    rng = np.random.default_rng(0)
    N, L, S = 3, 5, 4
    query, key = rng.standard_normal((N, L, 8)), rng.standard_normal((N, S, 8))
    value = rng.standard_normal((N, S, 8))
    padding = np.zeros((N, S), dtype=bool)
    padding[1, 2] = True
    attn_mask = rng.standard_normal((L, S))
    expected, expected_weights = numpy_mha(mha, query, key, value, padding, attn_mask)

    def layout(x):
        return mt.tensor(x if batch_first else x.transpose(1, 0, 2))

    out, weights = mha(layout(query), layout(key), layout(value),
                       key_padding_mask=mt.tensor(padding), attn_mask=mt.tensor(attn_mask))
    assert_close(out, expected if batch_first else expected.transpose(1, 0, 2))
    assert_close(weights, expected_weights.mean(axis=1))

    _, per_head = mha(layout(query), layout(key), layout(value), key_padding_mask=mt.tensor(padding),
                      attn_mask=mt.tensor(attn_mask), average_attn_weights=False)
    assert_close(per_head, expected_weights)

    fused, no_weights = mha(layout(query), layout(key), layout(value), key_padding_mask=mt.tensor(padding),
                            attn_mask=mt.tensor(attn_mask), need_weights=False)
    assert no_weights is None
    assert_close(fused, out)


def test_per_head_bool_mask_separate_projections_and_unbatched_input():
    mt.manual_seed(2)
    mha = nn.MultiheadAttention(8, 4, kdim=5, vdim=3, batch_first=True).double()
    rng = np.random.default_rng(1)
    query, key, value = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 6, 5)), rng.standard_normal((2, 6, 3))
    attn_mask = rng.random((2 * 4, 5, 6)) < 0.3
    attn_mask[..., 0] = False  # every query keeps at least one key
    expected, expected_weights = numpy_mha(mha, query, key, value, attn_mask=attn_mask)
    out, weights = mha(mt.tensor(query), mt.tensor(key), mt.tensor(value), attn_mask=mt.tensor(attn_mask))
    assert_close(out, expected)
    assert_close(weights, expected_weights.mean(axis=1))

    out, weights = mha(mt.tensor(query[0]), mt.tensor(key[0]), mt.tensor(value[0]), average_attn_weights=False)
    expected, expected_weights = numpy_mha(mha, query[:1], key[:1], value[:1])
    assert out.shape == (5, 8) and weights.shape == (4, 5, 6)
    assert_close(out, expected[0])
    assert_close(weights, expected_weights[0])


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
def test_gradients(implementation):
    mt.manual_seed(3)
    mha = nn.MultiheadAttention(4, 2).double()
    rng = np.random.default_rng(2)
    inputs = [mt.tensor(rng.standard_normal(s)) for s in ((3, 2, 4), (5, 2, 4), (5, 2, 4))]
    with backend.use_cpu_kernels(implementation):
        check_backward(lambda q, k, v: mha(q, k, v, need_weights=False)[0], inputs)
        check_backward(lambda q, k, v: mha(q, k, v), inputs)  # output and weights
        mha(*inputs, need_weights=False)[0].sum().backward()
    assert all(p.grad is not None and np.any(p.grad.numpy() != 0) for p in mha.parameters())


def test_dropout_only_in_training():
    mt.manual_seed(4)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = mt.randn(2, 6, 8)
    mha.eval()
    first, _ = mha(x, x, x)
    second, _ = mha(x, x, x, need_weights=False)
    assert_close(first, second)
    mha.train()
    dropped, weights = mha(x, x, x)
    assert not np.allclose(dropped.detach().numpy(), first.detach().numpy())
    # the returned weights are the dropped-out ones, as in PyTorch: some are exactly 0
    assert np.any(weights.detach().numpy() == 0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(ValueError, match="add_bias_kv"):
        nn.MultiheadAttention(8, 2, add_bias_kv=True)
    with pytest.raises(ValueError, match="dropout"):
        nn.MultiheadAttention(8, 2, dropout=2.0)
    mha = nn.MultiheadAttention(8, 2)
    x = mt.randn(5, 3, 8)
    with pytest.raises(ValueError, match="last dim of query must be 8"):
        mha(mt.randn(5, 3, 6), x, x)
    with pytest.raises(ValueError, match="key and value"):
        mha(x, x, mt.randn(4, 3, 8))
    with pytest.raises(ValueError, match="batch size"):
        mha(x, mt.randn(5, 2, 8), mt.randn(5, 2, 8))
    with pytest.raises(ValueError, match="all be batched"):
        mha(x, mt.randn(5, 8), mt.randn(5, 8))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(3, 5\)"):
        mha(x, x, x, key_padding_mask=mt.zeros(3, 4, dtype=mt.bool_))
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(5, 5\) or \(6, 5, 5\)"):
        mha(x, x, x, attn_mask=mt.zeros(4, 5))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        mha(x, x, x, attn_mask=mt.zeros(5, 5, dtype=mt.int64))
    with pytest.raises(RuntimeError, match="attn_mask must be given"):
        mha(x, x, x, is_causal=True)
