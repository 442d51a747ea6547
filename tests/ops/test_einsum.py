"""einsum against np.einsum: products, batched products, traces and diagonals,
implicit outputs, ellipses, broadcast size-1 dims; gradients in float64."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.gradcheck import check_backward
from tests.helpers import DEVICES

# equation, operand shapes
CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 1)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(4, 4)]),
    ("iji->j", [(2, 3, 2)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ijk,ik->j", [(2, 3, 4), (2, 4)]),
    ("ij,jk", [(2, 3), (3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("equation, operand_shapes", CASES, ids=[c[0] for c in CASES])
def test_einsum_matches_numpy_and_finite_differences(equation, operand_shapes, device):
    rng = np.random.default_rng(len(equation))
    values = [rng.standard_normal(s) for s in operand_shapes]
    tensors = [mt.tensor(v, device=device) for v in values]
    expected = np.einsum(equation, *(np.broadcast_to(v, np.broadcast_shapes(*operand_shapes)) if "ij,ij" in equation else v for v in values))
    np.testing.assert_allclose(mt.einsum(equation, *tensors).numpy(), expected, rtol=1e-12, atol=1e-12)
    check_backward(lambda *ts: mt.einsum(equation, *ts), tensors, exhaustive=True)


def test_einsum_accepts_a_list_and_checks_its_equation():
    a, b = mt.randn(2, 3), mt.randn(3, 4)
    np.testing.assert_allclose(mt.einsum("ij,jk", [a, b]).numpy(), (a @ b).numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="more operands"):
        mt.einsum("ij->i", a, b)
    with pytest.raises(ValueError, match="number of subscripts"):
        mt.einsum("ijk->i", a)
    with pytest.raises(RuntimeError, match="do not broadcast"):
        mt.einsum("ij,ij->i", a, b)
    with pytest.raises(ValueError, match="does not appear"):
        mt.einsum("ij->k", a)
