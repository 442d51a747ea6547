"""deconvnet, guided_backprop and saliency: hand-derived projections, the switches, and
every transposed layer against autograd.

The projections share one walk down the network; they differ only at a ReLU. So a
network WITHOUT ReLUs checks every other step at once: there guided backprop must equal
the gradient of the class score, and the deconvnet projection of one activation must
equal that activation's value times its gradient, both computed by autograd.
"""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv import visualize as V
from minitorch_cv.visualize.projection import _unpool
from minitorch_cv.visualize.recording import run_recorded
from tests.helpers import DEVICES


def set_weights(layer, weight, bias=None):
    with mt.no_grad():
        layer.weight.copy_(mt.tensor(np.asarray(weight, dtype=np.float64)))
        if bias is not None:
            layer.bias.copy_(mt.tensor(np.asarray(bias, dtype=np.float64)))
    return layer


# ------------------------------------------------------------------ hand-derived cases
def test_deconvnet_on_a_tiny_network_matches_the_hand_derivation():
    """conv (the diagonal sum x[i, j] + x[i+1, j+1] - 2) -> ReLU -> max pool 2x2 stride 1.

    conv:  [[ 0,  3, -2],     ReLU: [[0, 3, 0],     pool: [[3, 3],
            [-2,  0,  2],            [0, 0, 2],            [1, 2]]
            [ 1, -2,  1]]            [1, 0, 1]]
    The strongest pooled value, 3 at (0, 0) (the first of the two 3s), came from (0, 1)
    of the ReLU's output: unpooled there, rectified (3), and spread by the transposed
    convolution onto the two taps of the diagonal filter: x positions (0, 1) and (1, 2).
    """
    x = mt.tensor([[[[1.0, 2, 0, 1], [0, 1, 3, 0], [2, 0, 1, 1], [1, 1, 0, 2]]]], dtype=mt.float64)
    conv = set_weights(nn.Conv2d(1, 1, 2, dtype=mt.float64), [[[[1, 0], [0, 1]]]], [-2])
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2, stride=1))
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 0, 1] = expected[0, 0, 1, 2] = 3
    np.testing.assert_array_equal(V.deconvnet(model, x, "2", 0), expected)
    np.testing.assert_array_equal(V.deconvnet(model, x[0], "1", 0), expected[0])  # unbatched


def test_the_relu_rules_deconvnet_and_guided_differ_where_the_forward_relu_was_off():
    """Two 1x1 convolutions: x = (-1, 1) -> conv1 = identity -> ReLU -> (0, 1) -> conv2
    (2, 3) -> 3 -> ReLU -> 3. Going down from that 3: conv2's transpose gives (6, 9).
    The deconvnet rectifies the SIGNAL only: relu(6, 9) = (6, 9), so channel 0 gets 6
    although the forward ReLU had switched it off. Guided backprop (started from 1, the
    gradient of the activation) also masks by the forward ReLU: (2, 3) * (0, 1) = (0, 3).
    """
    conv1 = set_weights(nn.Conv2d(2, 2, 1, bias=False, dtype=mt.float64), np.eye(2).reshape(2, 2, 1, 1))
    conv2 = set_weights(nn.Conv2d(2, 1, 1, bias=False, dtype=mt.float64), [[[[2.0]], [[3.0]]]])
    model = nn.Sequential(conv1, nn.ReLU(), conv2, nn.ReLU())
    x = mt.tensor([[[[-1.0]], [[1.0]]]], dtype=mt.float64)
    np.testing.assert_array_equal(V.deconvnet(model, x, "3", 0).ravel(), [6, 9])
    np.testing.assert_array_equal(V.guided_backprop(model, x, 0, layer="3").ravel(), [0, 3])
    # A negative signal is cut by both: conv2 = (-2, 3) gives (-2, 3) * 1 going down.
    set_weights(conv2, [[[[-2.0]], [[3.0]]]])
    np.testing.assert_array_equal(V.deconvnet(model, x, "3", 0).ravel(), [0, 9])


# ------------------------------------------------------------------ the switches
def _windows(H, W, K, S, P):
    """Every window of a K x K, stride S, padding P pooling: (oh, ow, its in-image pixels)."""
    OH, OW = (H + 2 * P - K) // S + 1, (W + 2 * P - K) // S + 1
    for oh in range(OH):
        for ow in range(OW):
            yield oh, ow, [(i, j) for i in range(oh * S - P, oh * S - P + K)
                           for j in range(ow * S - P, ow * S - P + K) if 0 <= i < H and 0 <= j < W]


@pytest.mark.parametrize("K, S, P", [(2, 2, 0), (3, 3, 1), (3, 2, 0), (3, 2, 1), (2, 1, 0)])
def test_unpooling_routes_each_value_to_where_its_maximum_came_from(K, S, P):
    """Distinct inputs, so every window has one maximum, found here by a plain loop. Each
    signal value must land on its window's maximum and nowhere else; where overlapping
    windows (stride < kernel) share a maximum, that pixel gets the sum of their values."""
    rng = np.random.default_rng(K * 10 + S + P)
    N, C, H, W = 2, 3, 7, 9
    x = rng.permutation(N * C * H * W).reshape(N, C, H, W).astype(np.float64)
    pool = nn.MaxPool2d(K, S, P)
    steps, output = run_recorded(pool, mt.tensor(x))
    signal = rng.standard_normal(output.shape)
    expected = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for oh, ow, pixels in _windows(H, W, K, S, P):
                i, j = max(pixels, key=lambda p: x[n, c, p[0], p[1]])
                expected[n, c, i, j] += signal[n, c, oh, ow]
    unpooled = _unpool(pool, steps[0], mt.tensor(signal)).numpy()
    np.testing.assert_allclose(unpooled, expected, rtol=1e-15, atol=0)


# ------------------------------------------------------- every other step vs autograd
def _without_relus(dtype=mt.float64):
    """Every supported layer kind except ReLU, with non-square, strided, padded, dilated
    and grouped convolutions, an asymmetric "same" padding and overlapping pooling."""
    mt.manual_seed(0)
    batch_norm = nn.BatchNorm2d(8, dtype=dtype)
    with mt.no_grad():
        batch_norm.running_mean.copy_(mt.randn(8, dtype=dtype))
        batch_norm.running_var.copy_(mt.rand(8, dtype=dtype) + 0.5)
        batch_norm.weight.copy_(mt.randn(8, dtype=dtype))
    return nn.Sequential(
        nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(0, 2), dtype=dtype),  # row 13 of 14 unread
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        nn.LocalResponseNorm(3),
        nn.Conv2d(4, 8, (2, 3), padding="same", dilation=(2, 1), groups=2, dtype=dtype),
        batch_norm,
        nn.MaxPool2d(2),
        nn.AvgPool2d((1, 2)),
        nn.AdaptiveAvgPool2d((2, 1)),
        nn.Dropout(0.5),
        nn.Flatten(),
        nn.Linear(16, 5, dtype=dtype),
        nn.Identity(),
    )


def _input_gradient(model, x, select):
    """d select(model(x)) / dx by autograd."""
    x = x.detach().requires_grad_()
    model.eval()
    select(model(x)).backward()
    return x.grad.numpy()


@pytest.mark.parametrize("device", DEVICES)
def test_guided_backprop_without_relus_is_the_gradient(device):
    model = _without_relus().to(device)
    x = mt.randn(2, 3, 14, 11, dtype=mt.float64, device=device)
    guided = V.guided_backprop(model, x, [1, 4])
    expected = _input_gradient(model, x, lambda scores: scores[0, 1] + scores[1, 4])
    np.testing.assert_allclose(guided, expected, rtol=1e-10, atol=1e-12)


def test_deconvnet_without_relus_is_value_times_gradient():
    """From the second pooling's strongest value of channel 5, the deconvnet goes down
    through LRN unchanged (ZFNet's choice), so the network here has none."""
    model = _without_relus()
    del model[2]  # the LRN
    x = mt.randn(1, 3, 14, 11, dtype=mt.float64)
    _, pooled = run_recorded(model, x, stop_at="4")
    plane = pooled.numpy()[0, 5]
    i, j = np.unravel_index(plane.argmax(), plane.shape)
    expected = plane[i, j] * _input_gradient(model[:5], x, lambda out: out[0, 5, i, j])
    np.testing.assert_allclose(V.deconvnet(model, x, "4", 5), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_saliency_is_the_largest_absolute_gradient_over_channels(device):
    mt.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).double().to(device)
    x = mt.randn(2, 3, 8, 8, dtype=mt.float64, device=device)
    model.train()
    saliency = V.saliency(model, x, 2)
    gradient = _input_gradient(model, x, lambda scores: scores[:, 2].sum())
    np.testing.assert_allclose(saliency, np.abs(gradient).max(axis=1), rtol=1e-12)
    # The model's own state is untouched: no parameter gradients, its training mode back.
    model.zero_grad()
    model.train()
    V.saliency(model, x[0], 1)
    assert all(p.grad is None for p in model.parameters())
    assert model.training


# ------------------------------------------------------------------ what cannot be done
class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv(x) + x)


def test_networks_it_cannot_invert_are_refused_by_name():
    x = mt.randn(1, 2, 6, 6)
    with pytest.raises(V.NotInvertibleError, match=r"'relu'.*input is not the output of 'conv'"):
        V.deconvnet(Residual(), x, "relu", 0)
    with pytest.raises(V.NotInvertibleError, match=r"cannot project through '1': a Sigmoid"):
        V.deconvnet(nn.Sequential(nn.Conv2d(2, 2, 3), nn.Sigmoid(), nn.Conv2d(2, 2, 1)), x, "2", 0)
    reflect = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(V.NotInvertibleError, match="padding_mode='reflect'"):
        V.deconvnet(reflect, x, "0", 0)


def test_bad_arguments():
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    x = mt.randn(1, 2, 6, 6)
    with pytest.raises(ValueError, match=r"channel: expected an int in \[0, 3\)"):
        V.deconvnet(model, x, "1", 3)
    with pytest.raises(ValueError, match="no module named 'features.1'"):
        V.deconvnet(model, x, "features.1", 0)
    with pytest.raises(ValueError, match=r"x: expected an image \(C, H, W\) or a batch"):
        V.deconvnet(model, mt.randn(6, 6), "1", 0)
    with pytest.raises(ValueError, match="target: the model must return class scores"):
        V.saliency(model, x, 0)
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(72, 4))
    with pytest.raises(ValueError, match=r"target: expected a class in \[0, 4\)"):
        V.guided_backprop(classifier, x, 4)
