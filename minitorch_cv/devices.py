"""Devices: where a tensor's array lives, and ``minitorch_cv.device``, their object.

There are two: ``"cpu"`` (a NumPy array) and ``"gpu"`` (a CuPy array, on CuPy's current
GPU). ``"cuda"``, ``"cuda:0"`` and ``"gpu:0"`` are accepted spellings of ``"gpu"`` for
PyTorch users; an index names no other GPU (this framework drives one).

``device`` is PyTorch's ``torch.device``, built so that PyTorch code and this project's
string-based code both keep working:

    d = mt.device("cuda" if mt.cuda.is_available() else "cpu")
    x.to(d); x.device == d; x.device.type == "cuda"     # PyTorch code
    x.device == "gpu"; {"cpu": a, "gpu": b}[x.device]    # code written for strings

A ``device`` *is* its canonical name: a ``str`` subclass whose value is ``"cpu"`` or
``"gpu"``, so it is accepted wherever a device string is, prints as that name, and hashes
as that string (a dict keyed by "cpu"/"gpu" finds it). It compares equal to every
spelling of the same device (``mt.device("gpu") == "cuda"``). ``.type`` is PyTorch's
name, ``"cpu"`` or ``"cuda"``, so that ``x.device.type == "cuda"`` works unchanged.

One limit of mixing spellings: Python requires equal objects to hash alike, and one
value can only hash like one string. A GPU device hashes like ``"gpu"``, so a dict or
set keyed by the *string* ``"cuda"`` does not find it; key such tables by
``str(device)`` or by ``device`` objects.
"""
import numbers

import numpy as np

try:  # CuPy is an optional extra; without it only the CPU exists.
    import cupy
except Exception:  # ImportError, or a CUDA runtime that fails to load
    cupy = None

# PyTorch's device type for each canonical name.
_TORCH_TYPE = {"cpu": "cpu", "gpu": "cuda"}


def _canonical_name(spec):
    """"cpu" or "gpu" for an accepted device spelling; raises ValueError otherwise."""
    name = str(spec).lower()
    if name == "cpu":
        return "cpu"
    if name in ("gpu", "cuda") or name.startswith("cuda:") or name.startswith("gpu:"):
        return "gpu"
    raise ValueError(f"device: expected 'cpu' or 'gpu' (or 'cuda'), got {spec!r}")


class device(str):  # noqa: N801 - PyTorch's name
    """``device(type, index=None)``: ``device("cpu")``, ``device("cuda")``,
    ``device("cuda:0")``, ``device("cuda", 0)``, ``device(0)`` (GPU 0) or a copy of a
    device. See the module docstring for how it compares and hashes."""

    def __new__(cls, type="cpu", index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, numbers.Integral) and not isinstance(type, bool):
            type, index = "cuda", int(type)  # torch.device(0) is cuda:0
        if not isinstance(type, str):
            raise TypeError(
                f"device: expected a device string such as 'cpu' or 'cuda', got "
                f"{type.__class__.__name__}"
            )
        name = _canonical_name(type)
        if index is None and ":" in type:
            index = type.split(":", 1)[1]
        if index is not None:
            if name == "cpu":
                raise ValueError(f"device: the cpu device takes no index, got {index!r}")
            if not str(index).isdigit():
                raise ValueError(f"device: expected a non-negative index, got {index!r}")
            index = int(index)
        self = super().__new__(cls, name)
        self._index = index
        return self

    @property
    def type(self):
        """PyTorch's device type: "cpu" or "cuda"."""
        return _TORCH_TYPE[str.__str__(self)]

    @property
    def index(self):
        """The index given at construction (None when none was), as PyTorch."""
        return self._index

    def __eq__(self, other):
        if isinstance(other, device):
            return str.__eq__(self, other)
        if isinstance(other, str):
            try:
                return str.__eq__(self, _canonical_name(other))
            except ValueError:
                return False
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__  # the canonical name's hash (see the module docstring)

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self._index})"

    def __reduce__(self):
        return (device, (str.__str__(self), self._index))


CPU = device("cpu")
GPU = device("gpu")


def normalize(spec):
    """The canonical device (``CPU`` or ``GPU``) for any accepted spelling or device;
    ``None`` means the CPU."""
    if spec is None:
        return CPU
    return CPU if _canonical_name(spec) == "cpu" else GPU


def is_device_name(spec):
    """True when ``spec`` names a device (a device object or an accepted string)."""
    if not isinstance(spec, str):
        return False
    try:
        _canonical_name(spec)
    except ValueError:
        return False
    return True


def gpu_available():
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, or no device visible
        return False


def array_module(device):
    """NumPy for "cpu", CuPy for "gpu" (with a clear error when there is no GPU)."""
    if normalize(device) == CPU:
        return np
    if not gpu_available():
        raise RuntimeError(
            "device 'gpu' requested but CuPy cannot see a GPU "
            "(install the extra with `pip install -e .[gpu]` on a machine with CUDA)"
        )
    return cupy


def device_of_array(array):
    """The device an array lives on: CuPy arrays are on "gpu", everything else on "cpu"."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return GPU
    return CPU


def to_device(array, device):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    device = normalize(device)
    if device_of_array(array) == device:
        return array
    if device == CPU:
        return cupy.asnumpy(array)
    return array_module(GPU).asarray(array)


def namespace(array):
    """The array module (NumPy or CuPy) that ``array`` belongs to."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return np
