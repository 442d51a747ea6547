"""Comparisons and logic: results are bool tensors outside the graph (no gradient)."""
import operator

from ..devices import namespace
from ..tensor import Tensor
from ._util import binary_operands


def _compare(name, fn, a, b):
    a, b = binary_operands(name, a, b)
    a_array = a.array if isinstance(a, Tensor) else a
    b_array = b.array if isinstance(b, Tensor) else b
    return Tensor._wrap(fn(a_array, b_array))


def eq(input, other):  # noqa: A002 - PyTorch's argument name
    return _compare("eq", operator.eq, input, other)


def ne(input, other):  # noqa: A002
    return _compare("ne", operator.ne, input, other)


def lt(input, other):  # noqa: A002
    return _compare("lt", operator.lt, input, other)


def le(input, other):  # noqa: A002
    return _compare("le", operator.le, input, other)


def gt(input, other):  # noqa: A002
    return _compare("gt", operator.gt, input, other)


def ge(input, other):  # noqa: A002
    return _compare("ge", operator.ge, input, other)


def _logical(name, a, b):
    for value in (a, b):
        if isinstance(value, Tensor) and value.dtype.kind != "b":
            raise TypeError(f"{name}: expected bool tensors, got dtype {value.dtype}")
    return _compare(name, getattr(operator, name.split("_")[1] + "_"), a, b)


def logical_and(input, other):  # noqa: A002
    return _logical("logical_and", input, other)


def logical_or(input, other):  # noqa: A002
    return _logical("logical_or", input, other)


def logical_not(input):  # noqa: A002
    if input.dtype.kind != "b":
        raise TypeError(f"logical_not: expected a bool tensor, got dtype {input.dtype}")
    return Tensor._wrap(namespace(input.array).logical_not(input.array))


def isclose(input, other, rtol=1e-05, atol=1e-08):  # noqa: A002
    a, b = binary_operands("isclose", input, other)
    xp = namespace(input.array)
    return Tensor._wrap(xp.isclose(a.array, b.array, rtol=rtol, atol=atol))


def allclose(input, other, rtol=1e-05, atol=1e-08):  # noqa: A002
    return bool(isclose(input, other, rtol, atol).all().item())
