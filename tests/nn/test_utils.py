"""nn.utils: gradient clipping and parameter vectors."""
import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.nn import utils
from tests.helpers import DEVICES


def _params_with_grads(device="cpu"):
    a = nn.Parameter(mt.zeros(2, 2, dtype=mt.float64, device=device))
    b = nn.Parameter(mt.zeros(3, dtype=mt.float64, device=device))
    c = nn.Parameter(mt.zeros(1, dtype=mt.float64, device=device))  # no gradient
    a.grad = mt.tensor([[3.0, 0.0], [0.0, 4.0]], dtype=mt.float64, device=device)
    b.grad = mt.tensor([0.0, 12.0, 0.0], dtype=mt.float64, device=device)
    return [a, b, c]


@pytest.mark.parametrize("device", DEVICES)
def test_clip_grad_norm(device):
    params = _params_with_grads(device)
    total = utils.clip_grad_norm_(params, max_norm=6.5)
    assert total.item() == pytest.approx(13.0)  # sqrt(9 + 16 + 144)
    assert total.device == device
    scale = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), [0.0, 12.0 * scale, 0.0], rtol=1e-12)
    # below the limit nothing changes
    before = params[0].grad.numpy().copy()
    utils.clip_grad_norm_(params, max_norm=100.0)
    np.testing.assert_allclose(params[0].grad.numpy(), before, rtol=1e-12)


def test_clip_grad_norm_inf_and_other_norms():
    params = _params_with_grads()
    assert utils.clip_grad_norm_(params, 1e9, norm_type=math.inf).item() == 12.0
    assert utils.clip_grad_norm_(params, 1e9, norm_type=1).item() == pytest.approx(19.0)
    assert utils.clip_grad_norm_([nn.Parameter(mt.zeros(1))], 1.0).item() == 0.0
    params[0].grad.array[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    params = _params_with_grads()
    utils.clip_grad_value_(params, 3.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), [[3.0, 0.0], [0.0, 3.5]])
    np.testing.assert_array_equal(params[1].grad.numpy(), [0.0, 3.5, 0.0])


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vector = utils.parameters_to_vector(model.parameters())
    assert vector.shape == (3 * 2 + 2 + 2 + 1,)
    utils.vector_to_parameters(vector * 0 + 1, model.parameters())
    assert all(np.all(p.detach().numpy() == 1) for p in model.parameters())
    with pytest.raises(ValueError, match="parameters hold 11"):
        utils.vector_to_parameters(mt.ones(5), model.parameters())
