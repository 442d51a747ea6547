"""F.unfold / F.fold (and nn.Unfold / nn.Fold): unfold against its definition on drawn
non-square geometries, fold as its adjoint, gradients in float64 on both devices and
through the CUDA kernels."""
import numpy as np
import pytest
from hypothesis import given

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES
from tests.strategies import layouts
from tests.strategies_conv import conv_cases, seeds

F = mt.nn.functional


def unfold_by_definition(x, case):
    """out[n, (c, kh, kw), (oh, ow)] = x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW]."""
    N, C, H, W = x.shape
    out = np.zeros((N, C, case.KH, case.KW, case.OH, case.OW))
    for kh in range(case.KH):
        for kw in range(case.KW):
            for oh in range(case.OH):
                for ow in range(case.OW):
                    ih = oh * case.SH - case.PH + kh * case.DH
                    iw = ow * case.SW - case.PW + kw * case.DW
                    if 0 <= ih < H and 0 <= iw < W:
                        out[:, :, kh, kw, oh, ow] = x[:, :, ih, iw]
    return out.reshape(N, C * case.KH * case.KW, case.OH * case.OW)


def _arguments(case):
    return dict(kernel_size=(case.KH, case.KW), dilation=case.dilation, padding=case.padding,
                stride=case.stride)


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
@pytest.mark.parametrize("device", DEVICES)
@given(case=conv_cases(max_groups=1), layout=layouts(), seed=seeds())
def test_unfold_and_fold(device, implementation, case, layout, seed):
    from tests.strategies import make_tensor

    rng = np.random.default_rng(seed)
    values = rng.standard_normal(case.input_shape)
    x = make_tensor(values, device, layout)
    with backend.use_cpu_kernels(implementation):
        columns = F.unfold(x, **_arguments(case))
        np.testing.assert_allclose(columns.numpy(), unfold_by_definition(values, case), rtol=0, atol=0)
        check_backward(lambda t: F.unfold(t, **_arguments(case)), [x])
        # fold is unfold's adjoint: <unfold(x), c> == <x, fold(c)>
        c = mt.tensor(rng.standard_normal(columns.shape), device=device)
        folded = F.fold(c, (case.H, case.W), **_arguments(case))
        assert folded.shape == case.input_shape
        np.testing.assert_allclose(float((columns * c).sum()), float((x * folded).sum()), rtol=1e-10)
        check_backward(lambda t: F.fold(t, (case.H, case.W), **_arguments(case)), [c])


def test_unbatched_inputs_modules_and_errors():
    x = mt.randn(2, 5, 6)
    cols = F.unfold(x, (2, 3), stride=(1, 2))
    assert cols.shape == (12, 4 * 2)
    assert mt.nn.Unfold((2, 3), stride=(1, 2))(x.unsqueeze(0)).shape == (1, 12, 8)
    back = mt.nn.Fold((5, 6), (2, 3), stride=(1, 2))(cols.unsqueeze(0))
    assert back.shape == (1, 2, 5, 6)
    # every pixel counted as often as the windows cover it: fold(unfold(1)) = coverage
    ones = F.fold(F.unfold(mt.ones(1, 1, 3, 3), 2), (3, 3), 2)
    assert ones.numpy()[0, 0].tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    with pytest.raises(ValueError, match="3D or 4D"):
        F.unfold(mt.randn(5, 6), 2)
    with pytest.raises(ValueError, match="does not fit"):
        F.unfold(mt.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="divisible by the product of kernel_size"):
        F.fold(mt.randn(1, 5, 4), (3, 3), 2)
    with pytest.raises(ValueError, match="sliding blocks"):
        F.fold(mt.randn(1, 4, 5), (3, 3), 2)
    with pytest.raises(TypeError, match="floating-point"):
        F.unfold(mt.ones(1, 1, 3, 3, dtype=mt.int64), 2)
