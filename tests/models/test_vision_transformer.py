"""Vision Transformers: parameter counts (torchvision's and DeiT's), torchvision's module
names and initialization, image_size / patch_size (the CIFAR ViT), attention through the
fused kernel, gradients of the class token and position embedding, training."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn, optim
from minitorch_cv.ops import attention as attention_ops
from tests.models.zoo_testing import (
    assert_eval_deterministic,
    built,
    count,
    training_losses,
)
from tests.module_gradcheck import check_module_backward


def vit_count(P, L, D, M, classes=1000, image=224):
    """By formula: patch projection, class token, position embedding, L blocks of two
    LayerNorms (2D each), attention (in_proj 3D x D + 3D, out_proj D x D + D) and MLP
    (D x M + M + M x D + D), the final LayerNorm and the head."""
    tokens = (image // P) ** 2 + 1
    block = 2 * 2 * D + (3 * D * D + 3 * D + D * D + D) + (D * M + M + M * D + D)
    return 3 * P * P * D + D + D + tokens * D + L * block + 2 * D + D * classes + classes


# (patch, layers, width, mlp): the figures of the issue (DeiT) and torchvision 0.28's
EXPECTED = {
    "vit_ti_16": ((16, 12, 192, 768), 5_717_416),
    "vit_s_16": ((16, 12, 384, 1536), 22_050_664),
    "vit_b_16": ((16, 12, 768, 3072), 86_567_656),
    "vit_b_32": ((32, 12, 768, 3072), 88_224_232),
    "vit_l_16": ((16, 24, 1024, 4096), 304_326_632),
}


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"vit_l_16"}))
def test_parameter_count(name):
    shape, expected = EXPECTED[name]
    assert vit_count(*shape) == expected
    assert count(built(name)) == expected


def test_parameter_count_of_vit_l_16(monkeypatch):
    """304M float32 weights (1.2 GB) are not built in the test run: the arguments that
    vit_l_16 passes are recorded, and the same network with one of its 24 identical
    blocks is built and counted."""
    shape, expected = EXPECTED["vit_l_16"]
    assert vit_count(*shape) == expected
    recorded = {}
    monkeypatch.setattr(models.vision_transformer, "VisionTransformer",
                        lambda **kwargs: recorded.update(kwargs))
    models.vit_l_16()
    assert recorded == dict(image_size=224, patch_size=16, num_layers=24, num_heads=16,
                            hidden_dim=1024, mlp_dim=4096)
    one_block = models.VisionTransformer(**dict(recorded, num_layers=1))
    per_block = vit_count(16, 2, 1024, 4096) - vit_count(16, 1, 1024, 4096)
    assert count(one_block.encoder.layers.encoder_layer_0) == per_block
    assert count(one_block) + 23 * per_block == expected


def test_image_and_patch_size_make_a_cifar_vit():
    model = built("vit_ti_16", image_size=32, patch_size=4, num_classes=10)
    assert model.encoder.pos_embedding.shape == (1, 65, 192)  # 8 x 8 patches + the class token
    assert model.conv_proj.weight.shape == (192, 3, 4, 4)
    assert model.seq_length == 65
    x = mt.randn(2, 3, 32, 32)
    assert_eval_deterministic(model, x)
    with mt.no_grad():
        assert model(x).shape == (2, 10)
    assert built("vit_b_32", image_size=64).encoder.pos_embedding.shape == (1, 5, 768)


def test_torchvision_state_dict_names():
    state = built("vit_ti_16").state_dict()
    assert list(state)[:5] == [
        "class_token", "conv_proj.weight", "conv_proj.bias", "encoder.pos_embedding",
        "encoder.layers.encoder_layer_0.ln_1.weight",
    ]
    block = "encoder.layers.encoder_layer_11."
    assert state[block + "self_attention.in_proj_weight"].shape == (576, 192)
    assert state[block + "self_attention.in_proj_bias"].shape == (576,)
    assert state[block + "self_attention.out_proj.weight"].shape == (192, 192)
    assert state[block + "mlp.0.weight"].shape == (768, 192)
    assert state[block + "mlp.3.bias"].shape == (192,)
    assert state[block + "ln_2.bias"].shape == (192,)
    assert list(state)[-4:] == ["encoder.ln.weight", "encoder.ln.bias", "heads.head.weight", "heads.head.bias"]
    assert len(state) == 4 + 12 * 12 + 4  # as torchvision's: no buffers anywhere


def test_initialization_is_torchvisions():
    model = built("vit_b_16")
    np.testing.assert_array_equal(model.class_token.detach().numpy(), 0)
    pos = model.encoder.pos_embedding.detach().numpy()
    assert abs(pos.std() / 0.02 - 1) < 0.01
    proj = model.conv_proj.weight.detach().numpy()  # trunc_normal_ cut at +-2 (absolute): far out
    assert abs(proj.std() / math.sqrt(1 / 768) - 1) < 0.01
    np.testing.assert_array_equal(model.heads.head.weight.detach().numpy(), 0)
    block = model.encoder.layers.encoder_layer_0
    mlp = block.mlp[0].weight.detach().numpy()
    assert abs(np.abs(mlp).max() / math.sqrt(6 / (768 + 3072)) - 1) < 0.01  # xavier_uniform_
    assert 0 < np.abs(block.mlp[0].bias.detach().numpy()).max() < 1e-5  # N(0, 1e-12)
    np.testing.assert_array_equal(block.self_attention.in_proj_bias.detach().numpy(), 0)
    assert block.ln_1.eps == 1e-6 and model.encoder.ln.eps == 1e-6
    assert isinstance(block.mlp[1], nn.GELU)


def tiny_vit(**options):
    """2 layers, D 8, 2 heads, 3 x 3 grid of 4 x 4 patches; the head (zero at
    initialization) randomized so that gradients reach everything."""
    mt.manual_seed(1)
    model = models.VisionTransformer(image_size=12, patch_size=4, num_layers=2, num_heads=2,
                                     hidden_dim=8, mlp_dim=12, num_classes=3, **options)
    nn.init.normal_(model.heads.head.weight, std=0.5)
    return model


def test_attention_goes_through_the_fused_kernel(monkeypatch):
    calls = []
    fused = attention_ops.ScaledDotProductAttention.apply
    monkeypatch.setattr(attention_ops.ScaledDotProductAttention, "apply",
                        lambda *args: calls.append(args[0].shape) or fused(*args))

    def explicit(*args):
        raise AssertionError("the explicit (L x S probabilities) path ran")

    monkeypatch.setattr(attention_ops.AttentionProbabilities, "apply", explicit)
    model = tiny_vit()
    model(mt.randn(2, 3, 12, 12)).sum().backward()
    assert calls == [(2, 2, 10, 4)] * 2  # (N, heads, 9 patches + class token, head dim) per layer


def test_gradients_of_the_class_token_position_embedding_and_every_weight():
    model = tiny_vit().double()
    x = mt.tensor(np.random.default_rng(2).standard_normal((2, 3, 12, 12)))
    check_module_backward(model, [x])
    model(x).sum().backward()
    for name in ("class_token", "encoder.pos_embedding"):
        grad = model.get_parameter(name).grad.detach().numpy()
        assert np.all(np.abs(grad) > 0), name


def test_training_steps_lower_the_loss():
    model = tiny_vit()
    images, labels = mt.randn(8, 3, 12, 12), mt.randint(0, 3, (8,))
    losses = training_losses(model, images, labels, steps=5,
                             optimizer=optim.Adam(model.parameters(), lr=3e-3))
    assert losses[-1] < 0.8 * losses[0], losses


def test_dropouts_only_in_training():
    model = tiny_vit(dropout=0.3, attention_dropout=0.3).double()
    x = mt.randn(3, 3, 12, 12, dtype=mt.float64)
    model.train()
    with mt.no_grad():
        assert not np.allclose(model(x).detach().numpy(), model(x).detach().numpy())
    assert_eval_deterministic(model, x)


def test_representation_layer_and_conv_stem():
    mt.manual_seed(3)
    model = models.VisionTransformer(16, 4, 1, 2, 8, 12, num_classes=5, representation_size=6)
    assert [name for name, _ in model.heads.named_children()] == ["pre_logits", "act", "head"]
    stem = models.vision_transformer.ConvStemConfig
    model = models.VisionTransformer(16, 4, 1, 2, 8, 12, conv_stem_configs=[stem(4, 3, 2), stem(6, 3, 2)])
    assert model.conv_proj.conv_bn_relu_1[0].weight.shape == (6, 4, 3, 3)
    assert model.conv_proj.conv_last.weight.shape == (8, 6, 1, 1)
    with mt.no_grad():
        assert model.eval()(mt.randn(1, 3, 16, 16)).shape == (1, 1000)


def test_bad_sizes():
    with pytest.raises(ValueError, match="image_size .30. must be divisible by patch_size .4."):
        models.vit_ti_16(image_size=30, patch_size=4)
    with pytest.raises(TypeError, match="VisionTransformer: patch_size must be an int, got 4.0"):
        models.vit_ti_16(image_size=32, patch_size=4.0)
    with pytest.raises(ValueError, match="VisionTransformer: image_size must be >= 1, got 0"):
        models.vit_ti_16(image_size=0)
    model = tiny_vit()
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, 12, 12\)"):
        model(mt.randn(1, 3, 16, 16))
