"""The objects that are not plain data (a whole Module, a custom class): pickled.

Only ``load(..., weights_only=False)`` ever opens these pickles, because unpickling runs
code: a pickle names functions that are called while it is read. Keep to state_dicts for
checkpoints that travel.

What the pickle holds. Tensors and NumPy arrays inside the object are not pickled
inline: each array goes to the checkpoint's ``arrays/`` as .npy, like the plain data's,
and the pickle refers to it by a persistent id ``("array", i)``. A Tensor (or subclass,
such as Parameter) is reduced to ``_rebuild_tensor(class, array, requires_grad, device,
extra attributes)``, so that on loading its array is placed by ``map_location`` like any
other tensor's. Its ``grad`` is not saved (as PyTorch).
"""
import io
import pickle

import numpy as np

from .. import devices
from ..tensor import Tensor

DEFAULT_PROTOCOL = pickle.HIGHEST_PROTOCOL

_FIELDS_OF_A_TENSOR = None  # the attribute names every Tensor has (computed once)


def _tensor_fields():
    global _FIELDS_OF_A_TENSOR
    if _FIELDS_OF_A_TENSOR is None:
        _FIELDS_OF_A_TENSOR = frozenset(vars(Tensor._wrap(np.empty(0))))
    return _FIELDS_OF_A_TENSOR


def _rebuild_tensor(cls, array, requires_grad, device, extra):
    """Never called by the unpickler as it is: ``_Unpickler`` substitutes a version
    that knows the placement (see ``loads``)."""
    raise RuntimeError("_rebuild_tensor is only called through minitorch_cv.load")


class _Pickler(pickle.Pickler):
    def __init__(self, file, add_array, protocol):
        super().__init__(file, protocol=protocol)
        self._add_array = add_array
        self._stored = {}  # id(array) -> (index, array): an array shared twice is stored once

    def persistent_id(self, obj):
        is_numeric_numpy = isinstance(obj, np.ndarray) and not obj.dtype.hasobject
        if not is_numeric_numpy and devices.device_of_array(obj) == devices.CPU:
            return None
        if id(obj) not in self._stored:
            self._stored[id(obj)] = (self._add_array(obj), obj)
        return ("array", self._stored[id(obj)][0])

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            fields = _tensor_fields()
            extra = {key: value for key, value in vars(obj).items() if key not in fields}
            device = str.__str__(obj.device)
            return _rebuild_tensor, (type(obj), obj.array, obj.requires_grad, device, extra)
        return NotImplemented


def dumps(obj, add_array, protocol=DEFAULT_PROTOCOL):
    """Pickle ``obj``; ``add_array(array) -> index`` stores each array it contains."""
    buffer = io.BytesIO()
    _Pickler(buffer, add_array, protocol).dump(obj)
    return buffer.getvalue()


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, arrays, placement):
        super().__init__(file)
        self._arrays = arrays
        self._placement = placement

    def persistent_load(self, pid):
        kind, index = pid
        if kind != "array" or not 0 <= index < len(self._arrays):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self._arrays[index]

    def find_class(self, module, name):
        if (module, name) == (__name__, "_rebuild_tensor"):
            return self._rebuild_tensor
        return super().find_class(module, name)

    def _rebuild_tensor(self, cls, array, requires_grad, device, extra):
        tensor = cls._wrap(self._placement.place(array, device))
        tensor.requires_grad = requires_grad
        vars(tensor).update(extra)
        return tensor


def loads(payload, arrays, placement):
    """Unpickle ``payload`` (RUNS CODE FROM THE FILE: weights_only=False only)."""
    return _Unpickler(io.BytesIO(payload), arrays, placement).load()
