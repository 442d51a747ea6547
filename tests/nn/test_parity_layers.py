"""Layers added for PyTorch parity: Conv1d, InstanceNorm2d, PReLU, TransformerEncoderLayer
and TransformerEncoder (PixelShuffle, Embedding, Fold/Unfold are tested with their ops).
Each against its definition, with PyTorch's reprs, parameters and state_dict keys, and
float64 gradients of the functional forms on both devices."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import arrays, layouts, make_tensor

F = mt.nn.functional
nn = mt.nn


def conv1d_by_definition(x, w, b, stride, padding, dilation, groups):
    N, C, L = x.shape
    K, Cg, KW = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    OL = (L + 2 * padding - dilation * (KW - 1) - 1) // stride + 1
    out = np.zeros((N, K, OL))
    for k in range(K):
        g = k // (K // groups)
        for ol in range(OL):
            window = padded[:, g * Cg:(g + 1) * Cg, ol * stride: ol * stride + dilation * (KW - 1) + 1: dilation]
            out[:, k, ol] = (window * w[k]).sum(axis=(1, 2)) + (b[k] if b is not None else 0)
    return out


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_conv1d(device, data):
    groups = data.draw(st.integers(1, 2), label="groups")
    C, K = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    KW, stride, dilation = (data.draw(st.integers(1, 3), label=n) for n in ("KW", "stride", "dilation"))
    padding = data.draw(st.integers(0, 2), label="padding")
    L = data.draw(st.integers(dilation * (KW - 1) + 1, 8), label="L")
    x = data.draw(arrays((data.draw(st.integers(1, 2)), C, L)), label="x")
    w = data.draw(arrays((K, C // groups, KW)), label="w")
    b = data.draw(arrays((K,)), label="b")
    layout = data.draw(layouts(), label="layout")
    tensors = [make_tensor(v, device, layout) for v in (x, w, b)]
    out = F.conv1d(*tensors, stride=stride, padding=padding, dilation=dilation, groups=groups)
    np.testing.assert_allclose(out.numpy(), conv1d_by_definition(x, w, b, stride, padding, dilation, groups), atol=1e-12)
    check_backward(lambda *t: F.conv1d(*t, stride=stride, padding=padding, dilation=dilation, groups=groups), tensors)


def test_conv1d_layer():
    mt.manual_seed(0)
    layer = nn.Conv1d(3, 4, 3, stride=2, padding=1)
    assert repr(layer) == "Conv1d(3, 4, kernel_size=(3,), stride=(2,), padding=(1,))"
    assert layer.weight.shape == (4, 3, 3) and list(layer.state_dict()) == ["weight", "bias"]
    bound = 1 / np.sqrt(3 * 3)  # kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), ...)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    x = mt.randn(2, 3, 9)
    assert layer(x).shape == (2, 4, 5)
    assert nn.Conv1d(3, 4, 3, padding="same")(x).shape == (2, 4, 9)
    assert repr(nn.Conv1d(3, 4, 3, padding="same")) == "Conv1d(3, 4, kernel_size=(3,), stride=(1,), padding=same)"
    reflected = nn.Conv1d(3, 4, 3, padding=1, padding_mode="reflect")
    expected = F.conv1d(F.pad(x, (1, 1), mode="reflect"), reflected.weight, reflected.bias)
    np.testing.assert_allclose(reflected(x).detach().numpy(), expected.detach().numpy())
    assert nn.Conv1d(3, 4, 3)(x[0]).shape == (4, 7)  # unbatched
    with pytest.raises(ValueError, match="divisible"):
        nn.Conv1d(3, 4, 3, groups=2)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_instance_norm(device, data):
    N, C = data.draw(st.integers(1, 3), label="N"), data.draw(st.integers(1, 3), label="C")
    H, W = data.draw(st.integers(1, 3), label="H"), data.draw(st.integers(2, 3), label="W")
    x = data.draw(arrays((N, C, H, W)), label="x")
    weight, bias = data.draw(arrays((C,)), label="weight"), data.draw(arrays((C,)), label="bias")
    tensors = [make_tensor(v, device, data.draw(layouts(), label="layout")) for v in (x, weight, bias)]
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * weight[:, None, None] + bias[:, None, None]
    out = F.instance_norm(tensors[0], weight=tensors[1], bias=tensors[2])
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-10)
    check_backward(lambda a, w, b: F.instance_norm(a, weight=w, bias=b), tensors)


def test_instance_norm_layer_running_statistics():
    x = mt.tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 3)) * 2 + 1, dtype=mt.float64)
    layer = nn.InstanceNorm2d(2, affine=True, track_running_stats=True, dtype=mt.float64)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert repr(layer) == ("InstanceNorm2d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                           "track_running_stats=True)")
    layer(x)
    planes = x.numpy().reshape(4, 2, 9)
    expected_mean = 0.1 * planes.mean(axis=2).mean(axis=0)
    expected_var = 0.9 + 0.1 * planes.var(axis=2, ddof=1).mean(axis=0)
    np.testing.assert_allclose(layer.running_mean.numpy(), expected_mean)
    np.testing.assert_allclose(layer.running_var.numpy(), expected_var)
    layer.eval()
    normalized = (x.numpy() - expected_mean[:, None, None]) / np.sqrt(expected_var[:, None, None] + 1e-5)
    np.testing.assert_allclose(layer(x).detach().numpy(), normalized, atol=1e-12)
    plain = nn.InstanceNorm2d(2)
    assert list(plain.parameters()) == [] and plain(x[0]).shape == (2, 3, 3)  # unbatched
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        plain(mt.randn(2, 2, 1, 1))


@pytest.mark.parametrize("device", DEVICES)
def test_prelu(device):
    values = np.random.default_rng(2).uniform(-2, 2, (2, 3, 4))
    values[np.abs(values) < 0.1] = 0.5
    x = mt.tensor(values, device=device)
    for weight_values in ([0.25], [0.1, -0.5, 2.0]):
        weight = mt.tensor(weight_values, dtype=mt.float64, device=device)
        expected = np.where(values > 0, values, np.reshape(weight_values, (1, -1, 1)) * values)
        np.testing.assert_allclose(F.prelu(x, weight).numpy(), expected)
        check_backward(F.prelu, [x, weight])
    layer = nn.PReLU(3)
    assert repr(layer) == "PReLU(num_parameters=3)" and layer.weight.tolist() == [0.25] * 3
    with pytest.raises(ValueError, match="one per channel"):
        F.prelu(x, mt.ones(2, dtype=mt.float64, device=device))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_layer_is_its_definition(norm_first, batch_first):
    mt.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=batch_first,
                                       norm_first=norm_first, dtype=mt.float64)
    src = mt.randn(3, 5, 8, dtype=mt.float64)  # (S, N, E), or (N, S, E) with batch_first
    mask = mt.tensor(np.triu(np.ones((5, 5), dtype=bool), 1) if batch_first else np.triu(np.ones((3, 3), dtype=bool), 1))

    def attention(x):
        return layer.self_attn(x, x, x, attn_mask=mask, need_weights=False)[0]

    def feed_forward(x):
        return layer.linear2(F.gelu(layer.linear1(x)))

    if norm_first:
        x = src + attention(layer.norm1(src))
        expected = x + feed_forward(layer.norm2(x))
    else:
        x = layer.norm1(src + attention(src))
        expected = layer.norm2(x + feed_forward(x))
    np.testing.assert_allclose(layer(src, src_mask=mask).detach().numpy(), expected.detach().numpy(), atol=1e-12)
    check_backward(lambda s: layer(s, src_mask=mask), [src])


def test_transformer_encoder_stacks_copies_with_pytorchs_keys():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    keys = []
    for i in range(2):
        keys += [f"layers.{i}.{name}" for name in (
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
            "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
            "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias")]
    assert list(encoder.state_dict()) == keys + ["norm.weight", "norm.bias"]  # as PyTorch 2.13
    assert encoder.layers[0] is not layer and encoder.layers[0].linear1.weight is not layer.linear1.weight
    src = mt.randn(4, 2, 8)
    padding = mt.tensor([[False, False, False, True], [False, False, True, True]])
    expected = encoder.norm(encoder.layers[1](encoder.layers[0](src, src_key_padding_mask=padding),
                                              src_key_padding_mask=padding))
    np.testing.assert_allclose(encoder(src, src_key_padding_mask=padding).detach().numpy(),
                               expected.detach().numpy(), atol=1e-6)
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
