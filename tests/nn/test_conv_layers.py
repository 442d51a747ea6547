"""Conv2d and ConvTranspose2d layers: parameter shapes, default initialization, forward
equal to the functional op, padding options, bad arguments."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.nn import functional as F
from tests.helpers import DEVICES


def _input(shape, device="cpu", seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return mt.tensor(data, dtype=mt.float64, device=device)


@pytest.mark.parametrize("device", DEVICES)
def test_conv2d_shapes_and_forward(device):
    conv = nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2,
                     device=device, dtype=mt.float64)
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    assert conv.weight.device == device
    x = _input((2, 4, 7, 6), device)
    expected = F.conv2d(x, conv.weight, conv.bias, (2, 1), (1, 0), (1, 2), 2)
    out = conv(x)
    assert out.shape == (2, 6, 4, 4)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    assert conv.weight.grad.shape == conv.weight.shape and conv.bias.grad.shape == (6,)


def test_conv2d_default_initialization():
    # kaiming_uniform_(a=sqrt(5)) gives a bound of 1/sqrt(fan_in), fan_in = C/G * KH * KW
    mt.manual_seed(0)
    conv = nn.Conv2d(32, 64, (3, 5), groups=4)
    fan_in = 8 * 3 * 5
    bound = 1 / math.sqrt(fan_in)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert abs(w.mean()) < 3 * bound / math.sqrt(3) / math.sqrt(w.size)
    assert np.abs(b).max() <= bound
    mt.manual_seed(0)
    np.testing.assert_array_equal(nn.Conv2d(32, 64, (3, 5), groups=4).weight.detach().numpy(), w)


@pytest.mark.parametrize("kernel, dilation", [((4, 3), 1), ((2, 2), (2, 3)), (3, 1)])
def test_conv2d_same_padding_keeps_the_size(kernel, dilation):
    conv = nn.Conv2d(2, 3, kernel, padding="same", dilation=dilation, dtype=mt.float64)
    x = _input((1, 2, 6, 7))
    out = conv(x)
    assert out.shape == (1, 3, 6, 7)
    # extra padding of an even kernel goes at the bottom/right, as in PyTorch
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    th, tw = dh * (kh - 1), dw * (kw - 1)
    padded = F.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))
    expected = F.conv2d(padded, conv.weight, conv.bias, dilation=dilation)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert nn.Conv2d(2, 3, 3, padding="valid")(x.float()).shape == (1, 3, 4, 5)


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_conv2d_padding_modes(mode):
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=mt.float64)
    x = _input((2, 2, 5, 6))
    expected = F.conv2d(F.pad(x, (2, 2, 1, 1), mode=mode), conv.weight, conv.bias)
    np.testing.assert_array_equal(conv(x).detach().numpy(), expected.detach().numpy())
    assert f"padding_mode={mode}" in repr(conv)


def test_conv2d_bad_arguments():
    with pytest.raises(ValueError, match="in_channels .* divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels .* divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(2, 2, 3, padding_mode="circular")
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        nn.Conv2d(2, 2, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(2, 2, 0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        nn.Conv2d(2, 2, 3, padding=-1)
    with pytest.raises(ValueError, match="in_channels"):
        nn.Conv2d(0, 2, 3)


def test_conv_repr_like_pytorch():
    assert repr(nn.Conv2d(1, 32, 3)) == "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(16, 32, (3, 1), stride=2, padding=1, dilation=2, groups=4, bias=False)) == (
        "Conv2d(16, 32, kernel_size=(3, 1), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "groups=4, bias=False)"
    )
    assert repr(nn.ConvTranspose2d(8, 4, 2, stride=2)) == (
        "ConvTranspose2d(8, 4, kernel_size=(2, 2), stride=(2, 2))"
    )
    assert "output_padding=(1, 1)" in repr(nn.ConvTranspose2d(8, 4, 3, stride=2, output_padding=1))


@pytest.mark.parametrize("device", DEVICES)
def test_conv_transpose2d_shapes_and_forward(device):
    deconv = nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                                groups=2, dilation=1, device=device, dtype=mt.float64)
    assert deconv.weight.shape == (4, 3, 3, 2) and deconv.bias.shape == (6,)
    x = _input((2, 4, 3, 4), device)
    expected = F.conv_transpose2d(x, deconv.weight, deconv.bias, (2, 3), (1, 0), (1, 2), 2, 1)
    out = deconv(x)
    # OH = (H - 1) SH - 2 PH + DH (KH - 1) + OPH + 1
    assert out.shape == (2, 6, (3 - 1) * 2 - 2 + 2 + 1 + 1, (4 - 1) * 3 + 1 + 2 + 1)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())


def test_conv_transpose2d_default_initialization_uses_weight_dim_1():
    # PyTorch computes fan_in from weight.shape[1] = K/G even for the transposed layer
    mt.manual_seed(1)
    deconv = nn.ConvTranspose2d(64, 40, 4, groups=2)
    bound = 1 / math.sqrt(20 * 16)
    w = deconv.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound


def test_conv_transpose2d_output_size():
    deconv = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, dtype=mt.float64)
    x = _input((1, 2, 4, 5))
    assert deconv(x).shape == (1, 2, 7, 9)
    out = deconv(x, output_size=(8, 10))
    assert out.shape == (1, 2, 8, 10)
    expected = F.conv_transpose2d(x, deconv.weight, deconv.bias, 2, 1, (1, 1))
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    assert deconv(x, output_size=[1, 2, 8, 9]).shape == (1, 2, 8, 9)
    with pytest.raises(ValueError, match="valid sizes for dim 0 range from 7 to 8"):
        deconv(x, output_size=(9, 9))
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match='"zeros" padding mode'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_conv_state_dict_keys():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3, bias=False))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight"]
