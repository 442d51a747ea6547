"""From the unpickled tree of a PyTorch checkpoint to plain data (``Finisher``).

``torch_pickle.py`` leaves every tensor as a ``PendingTensor``: a storage, an offset, a
size and a stride. ``Finisher.finish`` walks the tree once: every pending tensor becomes
the array

    tensor[i0, i1, ...] = storage[storage_offset + i0 * stride[0] + i1 * stride[1] + ...]

cut from its storage (read from the file once, on first use) after checking that every
index lies inside the storage, and is handed to ``make_tensor``; containers must be
dicts, lists and tuples, leaves None, bools, numbers, strings and bytes. Objects shared
by the pickle stay shared (the walk is memoized by identity), so a file whose references
form a DAG cannot expand exponentially; the nesting depth is bounded, and so is the total
size of the tensors relative to the storages (``MAX_EXPANSION``).
"""
import math
from collections import OrderedDict

import numpy as np

from .numeric import TENSOR_DTYPES, bfloat16_to_float32
from .torch_pickle import PendingTensor

# How many bytes of tensors the file's storages may become (tied weights view one
# storage twice; a crafted file could view it a million times).
MAX_EXPANSION = 4
_MAX_DEPTH = 200


class Finisher:
    """Turns the unpickled tree into plain data: ``finish(value)``.

    storage_array(storage) -> the storage's elements as a 1-D NumPy array (read from the
    file); make_tensor(array, location, requires_grad) -> what a tensor becomes.
    """

    def __init__(self, storage_array, make_tensor, fail):
        self._storage_array = storage_array
        self._make_tensor = make_tensor
        self._fail = fail
        self._arrays = {}   # storage key -> array (each storage read once)
        self._done = {}     # id(object) -> finished object (shared stays shared)
        self._kept = []     # the unpickled objects, alive while ids are in use
        self._storage_bytes = 0
        self._tensor_bytes = 0

    def finish(self, value, depth=0):
        if value is None or isinstance(value, (bool, int, float, str, bytes)):
            return value
        if id(value) in self._done:
            return self._done[id(value)]
        if depth > _MAX_DEPTH:
            raise self._fail(f"is corrupt: containers nested deeper than {_MAX_DEPTH} levels")
        if isinstance(value, PendingTensor):
            result = self._tensor(value)
        elif isinstance(value, dict):
            result = OrderedDict() if isinstance(value, OrderedDict) else {}
            self._remember(value, result)
            for key, item in value.items():
                result[self.finish(key, depth + 1)] = self.finish(item, depth + 1)
        elif isinstance(value, list):
            result = []
            self._remember(value, result)
            result.extend(self.finish(item, depth + 1) for item in value)
        elif isinstance(value, tuple):
            result = tuple(self.finish(item, depth + 1) for item in value)
        else:
            raise self._fail(
                f"holds an object of type {type(value).__name__} where tensors, containers, "
                "numbers or strings were expected"
            )
        self._remember(value, result)
        return result

    def _remember(self, value, result):
        self._done[id(value)] = result
        self._kept.append(value)

    def _tensor(self, pending):
        storage = pending.storage
        if pending.dtype not in TENSOR_DTYPES:
            raise self._fail(f"holds a tensor of dtype {pending.dtype}, which minitorch_cv "
                             f"tensors cannot hold (they hold {', '.join(sorted(TENSOR_DTYPES))})")
        root = storage.root or storage
        if root.key not in self._arrays:
            array = self._storage_array(root)
            self._storage_bytes += array.nbytes
            self._arrays[root.key] = array
        array = self._arrays[root.key]
        if storage.root is not None:  # a legacy view: a slice of its root
            if storage.offset + storage.numel > root.numel:
                raise self._fail(f"is corrupt: a storage view runs past storage {root.key!r}")
            array = array[storage.offset:storage.offset + storage.numel]
        if pending.dtype != storage.dtype:  # _rebuild_tensor_v3: bytes seen as pending.dtype
            array = _reinterpret(array, pending.dtype, self._fail)
        result = _strided_copy(array, pending, self._fail)
        self._tensor_bytes += result.nbytes
        if self._tensor_bytes > MAX_EXPANSION * self._storage_bytes + 2**20:
            raise self._fail(
                f"is corrupt or hostile: its tensors would take more than {MAX_EXPANSION} "
                "times the bytes of its storages"
            )
        return self._make_tensor(result, storage.location, pending.requires_grad)


def _reinterpret(array, dtype, fail):
    if dtype == "bfloat16":
        raw = _reinterpret(array, "uint16", fail)
        return bfloat16_to_float32(raw)
    itemsize = np.dtype(dtype).itemsize
    if array.nbytes % itemsize:
        raise fail(f"is corrupt: an untyped storage of {array.nbytes} bytes holds no whole {dtype}s")
    return array.view(np.uint8).view(dtype)


def _strided_copy(storage, pending, fail):
    """The tensor ``storage[offset + sum_k i_k * stride_k]`` as a new C-contiguous array,
    after checking that every index it reads lies inside the storage (and that it has no
    more elements than the storage, so a zero stride cannot blow up a tiny file)."""
    size, stride, offset = pending.size, pending.stride, pending.offset
    numel = math.prod(size)
    if numel == 0:
        return np.zeros(size, dtype=storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.shape[0]:
        raise fail(
            f"is corrupt: a tensor of size {size} with stride {stride} at offset {offset} "
            f"reads past the end of its storage of {storage.shape[0]} elements"
        )
    if numel > storage.shape[0]:
        raise fail(f"is corrupt: a tensor of {numel} elements views a storage of {storage.shape[0]}")
    itemsize = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=[s * itemsize for s in stride], writeable=False
    )
    return np.array(view, order="C")
