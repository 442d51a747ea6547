"""LeNet-5 (lenet.py): the paper's layer sizes and 60,000 parameters, table I, the
subsampling and RBF layers against NumPy and finite differences (float64), the fixed
codes, the MAP loss, the modern variant, and one training step of each."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn
from minitorch_cv.models.lenet import (
    C3_TABLE,
    ConnectionTableConv2d,
    EuclideanRBF,
    ScaledTanh,
    Subsampling,
    digit_codes,
)
from minitorch_cv.nn import functional as F
from tests.helpers import DEVICES
from tests.models.training import loss_before_and_after_one_step
from tests.module_gradcheck import check_module_backward


def count(model):
    return sum(p.numel() for p in model.parameters())


def numpy_conv_valid(x, w):
    """Plain cross-correlation, no padding: x (N, C, H, W), w (K, C, KH, KW)."""
    N, C, H, W = x.shape
    K, _, KH, KW = w.shape
    out = np.zeros((N, K, H - KH + 1, W - KW + 1))
    for i in range(KH):
        for j in range(KW):
            out += np.einsum("nchw,kc->nkhw", x[:, :, i:i + H - KH + 1, j:j + W - KW + 1], w[:, :, i, j])
    return out


def test_layer_parameters_are_the_paper_s():
    model = models.lenet5()
    per_layer = {name: count(getattr(model, name)) for name in ("c1", "s2", "c3", "s4", "c5", "f6", "output")}
    assert per_layer == {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48_120, "f6": 10_164,
                         "output": 0}
    assert count(model) == 60_000
    assert model.state_dict()["output.codes"].shape == (10, 84)  # a buffer: saved, not trained


def test_layer_shapes():
    model = models.lenet5()
    shapes = {}
    for name in ("c1", "s2", "c3", "s4", "c5", "f6"):
        getattr(model, name).register_forward_hook(
            lambda m, args, out, name=name: shapes.__setitem__(name, out.shape))
    assert model(mt.randn(3, 1, 32, 32)).shape == (3, 10)
    assert shapes == {"c1": (3, 6, 28, 28), "s2": (3, 6, 14, 14), "c3": (3, 16, 10, 10),
                      "s4": (3, 16, 5, 5), "c5": (3, 120, 1, 1), "f6": (3, 84)}


def test_table_one_has_sixty_connections_and_every_s2_map_feeds_ten_c3_maps():
    assert len(C3_TABLE) == 16 and sum(len(inputs) for inputs in C3_TABLE) == 60
    assert [len(inputs) for inputs in C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    for s2_map in range(6):
        assert sum(s2_map in inputs for inputs in C3_TABLE) == 10  # the table's rows


def test_codes_are_plus_minus_one_stylized_digits():
    codes = np.array(digit_codes())
    assert codes.shape == (10, 84) and set(np.unique(codes)) == {-1.0, 1.0}
    hamming = (codes[:, None] != codes[None]).sum(-1)
    assert hamming[~np.eye(10, dtype=bool)].min() >= 5  # every pair of codes differs clearly
    one = codes[1].reshape(12, 7)
    assert (one[2:10, 3] == 1).all()  # the stem of the 1


def test_initialization_is_uniform_within_2_4_over_fan_in():
    mt.manual_seed(0)
    model = models.lenet5()
    for name, fan_in in [("c1.weight", 25), ("c5.weight", 400), ("f6.weight", 120),
                         ("s2.weight", 4), ("c3.weight3", 75), ("c3.weight4", 100)]:
        values = np.abs(model.get_parameter(name).detach().numpy())
        assert values.max() <= 2.4 / fan_in and values.max() > 0.5 * 2.4 / fan_in, name
    bias = np.abs(model.c3.bias.detach().numpy())
    assert (bias[:6] <= 2.4 / 75).all() and (bias[6:15] <= 2.4 / 100).all() and bias[15] <= 2.4 / 150


def test_scaled_tanh():
    x = np.array([-1.0, 0.0, 1.0, 3.0])
    out = ScaledTanh()(mt.tensor(x)).numpy()
    np.testing.assert_allclose(out, 1.7159 * np.tanh(2 * x / 3), rtol=1e-12)
    np.testing.assert_allclose(out[[0, 2]], [-1, 1], atol=2e-5)  # f(+-1) = +-1


def test_subsampling_is_a_scaled_2x2_sum_plus_bias():
    mt.manual_seed(0)
    layer = Subsampling(3).double()
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 4))
    sums = x.reshape(2, 3, 3, 2, 2, 2).sum(axis=(3, 5))
    expected = (sums * layer.weight.detach().numpy()[:, None, None]
                + layer.bias.detach().numpy()[:, None, None])
    np.testing.assert_allclose(layer(mt.tensor(x)).detach().numpy(), expected, rtol=1e-12)


def test_connection_table_convolution_equals_a_masked_full_one():
    mt.manual_seed(0)
    layer = ConnectionTableConv2d(C3_TABLE, 5).double()
    x = np.random.default_rng(1).standard_normal((2, 6, 9, 8))
    full = np.zeros((16, 6, 5, 5))  # the weights put where the table connects
    for size in (3, 4, 6):
        weights = layer.get_parameter(f"weight{size}").detach().numpy()
        maps = [k for k, inputs in enumerate(C3_TABLE) if len(inputs) == size]
        for row, k in enumerate(maps):
            for column, c in enumerate(C3_TABLE[k]):
                full[k, c] = weights[row, column]
    expected = numpy_conv_valid(x, full) + layer.bias.detach().numpy()[:, None, None]
    np.testing.assert_allclose(layer(mt.tensor(x)).detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_connection_table_keeps_the_map_order_of_an_unsorted_table():
    mt.manual_seed(0)
    table = ((0, 1), (2,), (1, 2))  # sizes 2, 1, 2: the groups come out as [1], [0, 2]
    layer = ConnectionTableConv2d(table, 3).double()
    x = np.random.default_rng(2).standard_normal((1, 3, 5, 6))
    full = np.zeros((3, 3, 3, 3))
    w1, w2 = layer.weight1.detach().numpy(), layer.weight2.detach().numpy()
    full[1, 2] = w1[0, 0]
    full[0, [0, 1]] = w2[0]
    full[2, [1, 2]] = w2[1]
    expected = numpy_conv_valid(x, full) + layer.bias.detach().numpy()[:, None, None]
    np.testing.assert_allclose(layer(mt.tensor(x)).detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_rbf_outputs_squared_distances_to_fixed_codes():
    codes = np.random.default_rng(3).choice([-1.0, 1.0], size=(4, 7))
    layer = EuclideanRBF(codes).double()
    x = np.random.default_rng(4).standard_normal((3, 7))
    expected = ((x[:, None, :] - codes[None]) ** 2).sum(-1)
    np.testing.assert_allclose(layer(mt.tensor(x)).numpy(), expected, rtol=1e-12)
    assert list(layer.parameters()) == [] and "codes" in layer.state_dict()


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_of_the_paper_s_layers_float64(device):
    mt.manual_seed(5)
    rng = np.random.default_rng(5)
    subsampling = Subsampling(4).double().to(device)
    for x in (rng.standard_normal((2, 4, 6, 8)), rng.standard_normal((1, 4, 2, 4)),
              rng.standard_normal((6, 4, 4, 1)).transpose(3, 1, 0, 2)):  # non-contiguous
        check_module_backward(subsampling, [mt.tensor(x, device=device)])
    check_module_backward(subsampling, [mt.tensor(rng.standard_normal((1, 4, 4, 2)), device=device)],
                          exhaustive=True)

    rbf = EuclideanRBF(np.random.default_rng(6).choice([-1.0, 1.0], size=(5, 6))).double().to(device)
    x = mt.tensor(rng.standard_normal((3, 6)), device=device)
    check_module_backward(rbf, [x])
    check_module_backward(rbf, [x], exhaustive=True)

    c3 = ConnectionTableConv2d(C3_TABLE, 5).double().to(device)
    check_module_backward(c3, [mt.tensor(rng.standard_normal((2, 6, 6, 7)), device=device)])


def test_scores_are_minus_the_penalties_and_the_loss_is_eq_9():
    mt.manual_seed(0)
    model = models.lenet5()
    images, target = mt.randn(4, 1, 32, 32), mt.tensor([0, 3, 9, 3])
    scores = model(images)
    with mt.no_grad():
        features = model.activation(model.f6(model.activation(model.c5(
            model.activation(model.s4(model.activation(model.c3(model.activation(model.s2(
                model.activation(model.c1(images))))))))).flatten(1))))
    penalties = ((features.numpy()[:, None, :] - np.array(digit_codes())[None]) ** 2).sum(-1)
    np.testing.assert_allclose(scores.detach().numpy(), -penalties, rtol=1e-5)

    y = penalties.astype(np.float64)
    labels = target.numpy()
    for j in (0.0, 50.0):
        expected = np.mean(y[np.arange(4), labels]
                           + np.log(np.exp(-j) + np.exp(-y).sum(1)))
        assert models.lenet5_loss(scores, target, j=j).item() == pytest.approx(expected, rel=1e-5)
    assert models.lenet5_loss(scores, target).item() == pytest.approx(
        F.cross_entropy(scores, target).item(), rel=1e-6)


def test_modern_variant():
    mt.manual_seed(0)
    model = models.lenet5(modern=True, num_classes=7)
    assert count(model) == 156 + 2416 + 48_120 + 10_164 + 84 * 7 + 7
    assert count(models.lenet5(modern=True)) == 61_706
    assert isinstance(model.s2, nn.MaxPool2d) and isinstance(model.c3, nn.Conv2d)
    assert model(mt.randn(2, 1, 32, 32)).shape == (2, 7)
    with pytest.raises(ValueError, match="num_classes: the paper's output codes are the 10 digits"):
        models.lenet5(num_classes=7)


# The scores of the paper's network are squared distances of 84 values: larger gradients,
# a smaller step (the paper's own learning rates were 5e-4 to 1e-5, with per-weight scaling).
@pytest.mark.parametrize("modern, lr", [(False, 0.002), (True, 0.05)])
def test_one_training_step_lowers_the_loss(modern, lr):
    mt.manual_seed(0)
    model = models.lenet5(modern=modern)
    images, labels = mt.randn(8, 1, 32, 32), mt.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    before, after = loss_before_and_after_one_step(model, images, labels, lr=lr,
                                                   loss_fn=models.lenet5_loss)
    assert after < before, (before, after)
