"""CoAtNet-0: the C-C-T-T layout and parameter count, the relative-position index, the
relative attention's bias reaching the fused kernel and getting its gradient there,
gradients of every new block, the CIFAR size, training."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn, optim
from minitorch_cv.models import coatnet
from minitorch_cv.ops import attention as attention_ops
from tests.models.zoo_testing import assert_eval_deterministic, built, count, training_losses
from tests.module_gradcheck import check_module_backward


def transformer_block_count(c_in, c_out, grid, downsample, head_dim=32):
    """LayerNorms, qkv and proj, the relative-position table, the MLP (4x) and, when
    downsampling, the 1x1 projection of the shortcut."""
    heads = c_out // head_dim
    total = 2 * c_in + (c_in * 3 * c_out + 3 * c_out) + (c_out * c_out + c_out)
    total += (2 * grid - 1) ** 2 * heads + 2 * c_out + (c_out * 4 * c_out + 4 * c_out) + (4 * c_out * c_out + c_out)
    return total + (c_in * c_out + c_out if downsample else 0)


def test_layout_and_parameter_count():
    model = built("coatnet_0")
    assert count(model) == 24_401_780  # the paper's Table 3: "25M"
    kinds = [type(getattr(model, f"s{i}")[0]) for i in range(1, 5)]
    assert kinds == [coatnet.MBConvBlock, coatnet.MBConvBlock, coatnet.TransformerBlock, coatnet.TransformerBlock]
    assert [len(getattr(model, f"s{i}")) for i in range(5)] == [2, 2, 3, 5, 2]
    # the Transformer stages by formula (14x14 tokens in S3, 7x7 in S4)
    s3 = transformer_block_count(192, 384, 14, True) + 4 * transformer_block_count(384, 384, 14, False)
    s4 = transformer_block_count(384, 768, 7, True) + transformer_block_count(768, 768, 7, False)
    assert count(model.s3) == s3 and count(model.s4) == s4
    attention = model.s3[1].attention
    assert attention.num_heads == 12 and attention.relative_position_bias_table.shape == (27 * 27, 12)
    assert model.s4[0].attention.num_heads == 24


def test_relative_position_index_is_the_offset():
    H, W = 3, 4
    index = coatnet.relative_position_index(H, W)
    assert index.shape == (12, 12) and index.min() == 0 and index.max() == (2 * H - 1) * (2 * W - 1) - 1
    tokens = [(h, w) for h in range(H) for w in range(W)]
    seen = {}
    for p, (h1, w1) in enumerate(tokens):
        for q, (h2, w2) in enumerate(tokens):
            offset = (h1 - h2, w1 - w2)
            assert seen.setdefault(offset, index[p, q]) == index[p, q]  # one entry per offset
    assert len(set(seen.values())) == len(seen) == (2 * H - 1) * (2 * W - 1)  # and vice versa


def small_attention(grid=(3, 2)):
    mt.manual_seed(1)
    return coatnet.RelativeAttention(6, 8, grid, head_dim=4).double()


def test_relative_attention_matches_its_definition():
    layer = small_attention()
    x = np.random.default_rng(0).standard_normal((2, 6, 6))
    with mt.no_grad():
        got = layer(mt.tensor(x)).detach().numpy()
    table = layer.relative_position_bias_table.detach().numpy()
    index = coatnet.relative_position_index(3, 2)
    qkv = x @ layer.qkv.weight.detach().numpy().T + layer.qkv.bias.detach().numpy()
    q, k, v = (qkv[..., i * 8:(i + 1) * 8].reshape(2, 6, 2, 4).transpose(0, 2, 1, 3) for i in range(3))
    logits = q @ k.transpose(0, 1, 3, 2) / 2.0 + table[index].transpose(2, 0, 1)  # sqrt(E) = 2
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    merged = (weights @ v).transpose(0, 2, 1, 3).reshape(2, 6, 8)
    expected = merged @ layer.proj.weight.detach().numpy().T + layer.proj.bias.detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_bias_gradient_comes_through_the_fused_kernel(monkeypatch):
    """The relative bias is the fused kernel's attn_mask and gets its gradient (dbias)
    there: the explicit softmax path must not run."""
    calls = []
    fused = attention_ops.ScaledDotProductAttention.apply

    def spy(q, k, v, bias, *rest):
        calls.append(bias.shape)
        return fused(q, k, v, bias, *rest)

    def explicit(*args):
        raise AssertionError("the unfused (L x S probabilities) path ran")

    monkeypatch.setattr(attention_ops.ScaledDotProductAttention, "apply", spy)
    monkeypatch.setattr(attention_ops.AttentionProbabilities, "apply", explicit)
    layer = small_attention()
    x = mt.tensor(np.random.default_rng(1).standard_normal((2, 6, 6)))
    check_module_backward(layer, [x])  # the bias table against finite differences too
    assert calls and all(shape == (1, 2, 6, 6) for shape in calls)  # (1, NH, L, L): never copied per sample
    layer(x).sum().backward()
    assert np.all(layer.relative_position_bias_table.grad.detach().numpy() != 0)


def test_transformer_and_mbconv_block_gradients():
    mt.manual_seed(2)
    rng = np.random.default_rng(2)
    x = mt.tensor(rng.standard_normal((2, 4, 4, 4)))
    down = coatnet.TransformerBlock(4, 8, grid_size=(2, 2), stride=2, head_dim=4).double()
    check_module_backward(down, [x])
    same = coatnet.TransformerBlock(4, 4, grid_size=(4, 4), stride=1, head_dim=2).double()
    check_module_backward(same, [x])
    mbconv = coatnet.MBConvBlock(4, 6, stride=2, expansion=2).double()  # with squeeze-and-excitation
    assert isinstance(mbconv.conv[2], nn.SqueezeExcitation)
    check_module_backward(mbconv, [x])


def test_cifar_size_forward_and_eval_determinism():
    model = built("coatnet_0", image_size=32, num_classes=10)
    assert model.s3[0].attention.grid_size == (2, 2) and model.s4[0].attention.grid_size == (1, 1)
    x = mt.randn(2, 3, 32, 32)
    assert_eval_deterministic(model, x)
    with mt.no_grad():
        assert model(x).shape == (2, 10)


def test_training_steps_lower_the_loss():
    mt.manual_seed(3)
    model = coatnet.CoAtNet(image_size=32, num_blocks=(1, 1, 1, 2, 1), channels=(8, 8, 16, 16, 32),
                            num_classes=4, head_dim=8)
    images, labels = mt.randn(8, 3, 32, 32), mt.randint(0, 4, (8,))
    losses = training_losses(model, images, labels, steps=5, optimizer=optim.Adam(model.parameters(), lr=2e-3))
    assert losses[-1] < 0.8 * losses[0], losses


def test_bad_arguments():
    with pytest.raises(ValueError, match="image_size must be a positive multiple of 32"):
        models.coatnet_0(image_size=40)
    with pytest.raises(TypeError, match="CoAtNet: image_size must be an int"):
        models.coatnet_0(image_size=224.0)
    with pytest.raises(ValueError, match="block_types"):
        coatnet.CoAtNet(block_types=("C", "C", "T", "X"))
    with pytest.raises(ValueError, match="divisible by head_dim"):
        coatnet.RelativeAttention(8, 12, (2, 2), head_dim=8)
    model = built("coatnet_0", image_size=32, num_classes=10)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, 32, 32\)"):
        model(mt.randn(1, 3, 64, 64))
