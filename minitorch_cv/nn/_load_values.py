"""What ``Module.load_state_dict`` writes: each value converted, and checked, before any
is written, so that a state dict with one bad entry changes nothing.

A value must be a Tensor or an array of the target's shape (checked by the caller) and
convertible to the target's dtype without inventing numbers: no strings, objects or
complex numbers, and for an integer or bool target (``num_batches_tracked``) no NaN or
infinity and nothing outside the dtype's range (NumPy would store NaN as -2**63).
Returns the converted array on the target's device, or an error message.
"""
import numpy as np

from .. import devices as _device
from ..tensor import Tensor


def converted_value(key, value, target):
    """(array of target's dtype on target's device, None) or (None, message)."""
    source = value.array if isinstance(value, Tensor) else value
    source = _device.to_device(source, _device.CPU)  # checked on the host, then moved
    source = np.asarray(source)
    where = f'While copying the parameter named "{key}"'
    dtype = np.dtype(target.dtype)
    if source.dtype.kind not in "biuf":
        return None, f"{where}, expected numbers but the checkpoint holds dtype {source.dtype}"
    if dtype.kind in "biu" and source.dtype.kind == "f":
        if not np.isfinite(source).all():
            return None, f"{where}, the value has NaN or infinity, which the {dtype} parameter cannot hold"
    if dtype.kind in "iu" and source.size:
        info = np.iinfo(dtype)
        low, high = source.min(), source.max()
        if low < info.min or high > info.max:
            return None, f"{where}, the values [{low}, {high}] do not fit {dtype} [{info.min}, {info.max}]"
    return _device.to_device(source.astype(dtype), target.device), None
