"""The restricted unpickler: the format's arrays load, nothing else does."""
import pickle

import numpy as np
import pytest

from minitorch_cv.data import DatasetCorruptError
from minitorch_cv.data.safe_pickle import safe_load_dict

from .fakes import Exec, SystemCall


class _Reduce:
    """Pickles as ``function(*args)``."""

    def __init__(self, function, args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_plain_data_round_trips(protocol):
    value = {
        "data": np.arange(12, dtype=np.uint8).reshape(3, 4),
        "floats": np.linspace(0, 1, 5),
        "labels": [1, 2, 3],
        b"bytes_key": (b"x", "y", None, True, 2.5),
    }
    loaded = safe_load_dict(pickle.dumps(value, protocol=protocol), "test")
    np.testing.assert_array_equal(loaded["data"], value["data"])
    assert loaded["data"].dtype == np.uint8
    np.testing.assert_array_equal(loaded["floats"], value["floats"])
    assert loaded["labels"] == [1, 2, 3]
    assert loaded["bytes_key"] == (b"x", "y", None, True, 2.5)  # bytes keys become str


@pytest.mark.parametrize(
    "payload, refused",
    [
        (SystemCall("true"), "system"),
        (Exec("pass"), "exec"),
        (_Reduce(eval, ("1",)), "eval"),
        (_Reduce(np.load, ("x",)), "numpy.load"),
        (_Reduce(np.frombuffer, (b"abc",)), "frombuffer"),
        (_Reduce(getattr, (object, "__subclasses__")), "getattr"),
    ],
)
def test_any_other_global_is_refused(payload, refused):
    with pytest.raises(DatasetCorruptError, match=f"refused to unpickle.*{refused}"):
        safe_load_dict(pickle.dumps({"x": payload}, protocol=2), "test")


def test_ndarray_cannot_be_called_directly():
    # ndarray((10**12,)) would try to allocate a terabyte.
    with pytest.raises(DatasetCorruptError, match="not a valid data pickle"):
        safe_load_dict(pickle.dumps({"x": _Reduce(np.ndarray, ((10**12,),))}, protocol=2), "test")


def test_reconstruct_only_with_numpys_own_arguments():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # NumPy 1.x
        from numpy.core.multiarray import _reconstruct

    crafted = _Reduce(_reconstruct, (np.ndarray, (10**12,), b"b"))
    with pytest.raises(DatasetCorruptError, match="_reconstruct called with unexpected arguments"):
        safe_load_dict(pickle.dumps({"x": crafted}, protocol=2), "test")


@pytest.mark.parametrize("array", [np.array([{"a": 1}, 2], dtype=object),
                                   np.zeros(2, dtype=[("a", "u1"), ("b", "f4")])])  # fmt: skip
def test_object_and_structured_arrays_are_refused(array):
    with pytest.raises(DatasetCorruptError, match="not a plain numeric type"):
        safe_load_dict(pickle.dumps({"x": array}, protocol=2), "test")


def test_not_a_dict_and_garbage():
    with pytest.raises(DatasetCorruptError, match="expected a pickled dict"):
        safe_load_dict(pickle.dumps([1, 2]), "test")
    with pytest.raises(DatasetCorruptError, match="not a valid data pickle"):
        safe_load_dict(b"\x80\x02this is not a pickle", "test")
    with pytest.raises(DatasetCorruptError, match="not a valid data pickle"):
        safe_load_dict(pickle.dumps({"x": np.zeros(1000)})[:-50], "test")


def test_byte_order_and_fortran_arrays_keep_their_values():
    big_endian = np.arange(-5, 7, dtype=">i2").reshape(3, 4)
    fortran = np.asfortranarray(np.linspace(0, 1, 6).reshape(2, 3))
    loaded = safe_load_dict(pickle.dumps({"a": big_endian, "b": fortran}, protocol=2), "test")
    np.testing.assert_array_equal(loaded["a"], big_endian)
    assert loaded["a"].dtype == np.int16 and loaded["a"].dtype.isnative
    np.testing.assert_array_equal(loaded["b"], fortran)


def _array_stream(dtype_state, raw, shape=(4,)):
    """A protocol-2 stream {'x': array} with a hand-written dtype state and raw data."""

    class Dtype:
        def __reduce__(self):
            return np.dtype, ("u1", False, True), dtype_state

    class Array:
        def __reduce__(self):
            return np.ndarray.__reduce__(np.zeros(0, np.uint8))[:2] + (
                (1, shape, Dtype(), False, raw),
            )

    return pickle.dumps({"x": Array()}, protocol=2)


def test_hand_written_array_state_is_checked():
    plain = (3, "|", None, None, None, -1, -1, 0)
    loaded = safe_load_dict(_array_stream(plain, b"\x01\x02\x03\x04"), "test")
    np.testing.assert_array_equal(loaded["x"], [1, 2, 3, 4])
    # Flags are ignored: a dtype cannot be made to claim it holds object pointers.
    claims_objects = (3, "|", None, None, None, -1, -1, 0xFF)
    loaded = safe_load_dict(_array_stream(claims_objects, b"\x01\x02\x03\x04"), "test")
    assert loaded["x"].dtype == np.uint8
    with pytest.raises(DatasetCorruptError, match="needs 4 bytes, got 3"):
        safe_load_dict(_array_stream(plain, b"\x01\x02\x03"), "test")
    with pytest.raises(DatasetCorruptError, match="sub-arrays or fields"):
        safe_load_dict(_array_stream((3, "|", None, ("a",), {"a": 1}, 1, 1, 0), b"1234"), "test")
    with pytest.raises(DatasetCorruptError, match="shape"):
        safe_load_dict(_array_stream(plain, b"1234", shape=(-4,)), "test")


@pytest.mark.parametrize("name", [b"numpy\ndtype\n", b"numpy\nndarray\n", b"_codecs\nencode\n"])
def test_build_cannot_modify_an_allowed_global(name):
    """GLOBAL x; BUILD {...} would set attributes on x: refused (nothing to set)."""
    state = b"}X\x03\x00\x00\x00fooK\x01s"  # {'foo': 1}
    stream = b"\x80\x02}X\x01\x00\x00\x00xc" + name + state + b"bs."
    with pytest.raises(DatasetCorruptError, match="has no attribute '__dict__'"):
        safe_load_dict(stream, "test")
