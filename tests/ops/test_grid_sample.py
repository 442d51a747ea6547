"""F.affine_grid and F.grid_sample: the grid against its definition, sampling against
the reference kernel, an identity transform reproducing the image, gradients of input,
grid and theta in float64 on both devices and through the CUDA kernels."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.gradcheck import check_backward
from minitorch_cv.kernels.reference import grid_sample as reference
from tests.helpers import DEVICES, assert_close
from tests.strategies import layouts, make_tensor
from tests.strategies_conv import seeds

F = mt.nn.functional


def affine_grid_by_definition(theta, H, W, align_corners):
    def coordinates(steps):
        if steps == 1:
            return np.zeros(1)
        line = -1 + 2 * np.arange(steps) / (steps - 1)
        return line if align_corners else line * (steps - 1) / steps

    xs, ys = coordinates(W), coordinates(H)
    grid = np.empty((theta.shape[0], H, W, 2))
    for n in range(theta.shape[0]):
        for h in range(H):
            for w in range(W):
                grid[n, h, w] = theta[n] @ np.array([xs[w], ys[h], 1.0])
    return grid


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")  # unit-size grids, as PyTorch warns
@pytest.mark.parametrize("device", DEVICES)
@given(N=st.integers(1, 2), H=st.integers(1, 4), W=st.integers(1, 4), align_corners=st.booleans(), seed=seeds())
def test_affine_grid(device, N, H, W, align_corners, seed):
    theta_values = np.random.default_rng(seed).standard_normal((N, 2, 3))
    theta = mt.tensor(theta_values, device=device)
    grid = F.affine_grid(theta, (N, 3, H, W), align_corners=align_corners)
    assert grid.shape == (N, H, W, 2)
    np.testing.assert_allclose(grid.numpy(), affine_grid_by_definition(theta_values, H, W, align_corners), atol=1e-12)
    check_backward(lambda t: F.affine_grid(t, (N, 3, H, W), align_corners=align_corners), [theta])


@pytest.mark.parametrize("implementation", ["cpu", "cuda"])
@pytest.mark.parametrize("device", DEVICES)
@given(padding_mode=st.sampled_from(["zeros", "border"]), align_corners=st.booleans(),
       layout=layouts(), seed=seeds(), sizes=st.tuples(st.integers(1, 2), st.integers(1, 2),
       st.integers(2, 4), st.integers(2, 4), st.integers(1, 3), st.integers(1, 3)))
def test_grid_sample_values_and_gradients(device, implementation, padding_mode, align_corners, layout, seed, sizes):
    N, C, H, W, OH, OW = sizes
    rng = np.random.default_rng(seed)
    x = make_tensor(rng.standard_normal((N, C, H, W)), device, layout)
    # away from pixel-grid lines (kinks of bilinear sampling) and the border clip points
    pixels = rng.uniform(-0.8, 0.8, (N, OH, OW, 2)) + rng.integers(-1, max(H, W), (N, OH, OW, 2))
    extent = np.array([W, H])
    coords = (2 * (pixels + 0.5) / extent - 1) if not align_corners else 2 * pixels / np.maximum(extent - 1, 1) - 1
    grid = make_tensor(coords, device, layout)
    with backend.use_cpu_kernels(implementation):
        out = F.grid_sample(x, grid, padding_mode=padding_mode, align_corners=align_corners)
        expected = reference.grid_sample_forward(x.numpy(), grid.numpy(), padding_mode == "border", align_corners)
        assert_close(out, expected)
        check_backward(
            lambda a, g: F.grid_sample(a, g, padding_mode=padding_mode, align_corners=align_corners),
            [x, grid],
        )


@pytest.mark.parametrize("device", DEVICES)
def test_identity_transform_reproduces_the_image_and_theta_learns(device):
    x = mt.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 5)), device=device)
    identity = mt.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * 2, dtype=mt.float64, device=device)
    for align_corners in (False, True):
        grid = F.affine_grid(identity, x.shape, align_corners=align_corners)
        np.testing.assert_allclose(F.grid_sample(x, grid, align_corners=align_corners).numpy(), x.numpy(), atol=1e-12)
    # a small rotation and shift (grid points away from whole pixels, where bilinear
    # sampling has kinks): theta gets its gradient through the grid and the sampling
    moved = mt.tensor([[[1.0, 0.05, 0.13], [0.02, 1.0, 0.07]]] * 2, dtype=mt.float64, device=device)
    check_backward(
        lambda t: F.grid_sample(x, F.affine_grid(t, x.shape, align_corners=False), align_corners=False),
        [moved],
    )


def test_defaults_warn_and_bad_arguments_raise():
    x, grid = mt.randn(1, 1, 3, 3), mt.zeros(1, 2, 2, 2)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.grid_sample(x, grid)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.affine_grid(mt.zeros(1, 2, 3), (1, 1, 2, 2))
    with pytest.raises(ValueError, match="'bilinear'"):
        F.grid_sample(x, grid, mode="nearest", align_corners=False)
    with pytest.raises(ValueError, match="'zeros' or 'border'"):
        F.grid_sample(x, grid, padding_mode="reflection", align_corners=False)
    with pytest.raises(ValueError, match=r"\(N, OH, OW, 2\)"):
        F.grid_sample(x, mt.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(TypeError, match="same floating dtype"):
        F.grid_sample(x, grid.double(), align_corners=False)
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(mt.zeros(2, 2, 3), (1, 1, 2, 2), align_corners=False)
