"""Matrix products: 2-D, batched with broadcast batch dims, and the vector cases."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES, assert_close
from tests.strategies import arrays, layouts, make_tensor


@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    # Each side keeps a broadcastable suffix of the batch dims, with some set to 1.
    a_batch = tuple(1 if draw(st.booleans()) else b for b in batch[draw(st.integers(0, len(batch))):])
    b_batch = tuple(1 if draw(st.booleans()) else b for b in batch[draw(st.integers(0, len(batch))):])
    a_shape = (k,) if draw(st.integers(0, 4)) == 0 else a_batch + (n, k)
    b_shape = (k,) if draw(st.integers(0, 4)) == 0 else b_batch + (k, m)
    return a_shape, b_shape


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_matmul_matches_numpy_and_gradients(device, data):
    a_shape, b_shape = data.draw(matmul_shapes(), label="shapes")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    a = data.draw(arrays(a_shape)).astype(dtype)
    b = data.draw(arrays(b_shape)).astype(dtype)
    layout = data.draw(layouts(), label="layout")
    out = make_tensor(a, device, layout) @ make_tensor(b, device)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert out.shape == expected.shape
    assert_close(out, expected.astype(dtype), dtype)
    check_backward(lambda x, y: x @ y, [make_tensor(a.astype(np.float64), device, layout), make_tensor(b.astype(np.float64), device)])


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(3, 4\) and \(5, 2\)"):
        mt.randn(3, 4) @ mt.randn(5, 2)
    with pytest.raises(RuntimeError, match="batch dimensions"):
        mt.randn(2, 3, 4) @ mt.randn(3, 4, 5)
    with pytest.raises(RuntimeError, match="at least one dimension"):
        mt.matmul(mt.tensor(1.0), mt.randn(2))
    with pytest.raises(TypeError, match="dtype"):
        mt.randn(2, 2) @ mt.randn(2, 2, dtype=mt.float64)


@pytest.mark.parametrize("device", DEVICES)
def test_mm_and_bmm_are_matmul_for_their_ranks_only(device):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(mt.mm(mt.tensor(a, device=device), mt.tensor(b, device=device)).numpy(), a @ b)
    check_backward(mt.mm, [mt.tensor(a, device=device), mt.tensor(b, device=device)])
    p, q = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 1))
    bp, bq = mt.tensor(p, device=device), mt.tensor(q, device=device)
    np.testing.assert_allclose(bp.bmm(bq).numpy(), p @ q)
    check_backward(mt.bmm, [bp, bq])
    with pytest.raises(RuntimeError, match="2D"):
        mt.mm(bp, bq)
    with pytest.raises(RuntimeError, match="3D"):
        mt.bmm(mt.tensor(a, device=device), mt.tensor(b, device=device))
    with pytest.raises(RuntimeError, match="same batch size"):
        mt.bmm(bp, mt.tensor(rng.standard_normal((3, 4, 1)), device=device))
