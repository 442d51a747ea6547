"""Making tensors: from data, constants, ranges and random draws.

Defaults follow PyTorch: Python floats and every constant/random constructor give
float32, Python ints give int64, Python bools give bool; a NumPy/CuPy array keeps
its dtype. ``device`` is "cpu" (default) or "gpu" ("cuda" is accepted).
"""
import numbers

import numpy as np

from . import dtypes
from . import devices as _device
from .random import generator
from .tensor import Tensor


def _finish(array, device, requires_grad):
    tensor = Tensor(_device.to_device(array, device))
    tensor.requires_grad = requires_grad
    return tensor


def _infer_dtype(data):
    """PyTorch's inference for Python data: any float -> float32, else ints -> int64,
    all bools -> bool."""
    flat = np.asarray(data)
    if flat.dtype.kind == "b":
        return dtypes.bool_
    if flat.dtype.kind in "iu":
        return dtypes.int64
    if flat.dtype.kind == "f":
        return dtypes.DEFAULT_FLOAT
    raise TypeError(f"tensor: cannot make a tensor from data of type {flat.dtype}")


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays, Tensors)."""
    dtype = dtypes.resolve(dtype)
    if isinstance(data, Tensor):
        array = data.array
    elif hasattr(data, "__array__") or hasattr(data, "__cuda_array_interface__"):
        array = data  # NumPy or CuPy arrays keep their dtype
    else:
        array = np.asarray(data, dtype=dtype or _infer_dtype(data))
    xp = _device.namespace(array)
    array = xp.array(array, dtype=dtype, copy=True)
    if device is None:
        device = _device.device_of_array(array)
    return _finish(array, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with ``data`` when no conversion is needed."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray) and dtype in (None, data.dtype) and device in (None, "cpu"):
        return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _size(size):
    """Accept ``zeros(2, 3)`` and ``zeros((2, 3))``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (numbers.Integral, np.integer)) or s < 0:
            raise ValueError(f"size: expected non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _constant(fill, size, dtype, device, requires_grad):
    dtype = dtypes.resolve(dtype) or dtypes.DEFAULT_FLOAT
    xp = _device.array_module(device)
    return _finish(xp.full(_size(size), fill, dtype=dtype), device, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _constant(0, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _constant(1, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    # Zero-filled rather than uninitialized: the same cost here, and never surprising.
    return _constant(0, size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None and isinstance(fill_value, bool):
        dtype = dtypes.bool_
    elif dtype is None and isinstance(fill_value, numbers.Integral):
        dtype = dtypes.int64
    return _constant(fill_value, (size,), dtype, device, requires_grad)


def _random(draw, size, dtype, device, requires_grad):
    dtype = dtypes.resolve(dtype) or dtypes.DEFAULT_FLOAT
    if not dtypes.is_floating(dtype):
        raise TypeError(f"dtype: random floats need a floating dtype, got {dtype}")
    device = _device.normalize(device)
    array = draw(generator(device), _size(size)).astype(dtype, copy=False)
    return _finish(array, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    return _random(lambda g, s: g.standard_normal(s), size, dtype, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    return _random(lambda g, s: g.random(s), size, dtype, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None):
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:  # randint(high, size) form
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: size is required")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    dtype = dtypes.resolve(dtype) or dtypes.int64
    device = _device.normalize(device)
    array = generator(device).integers(low, high, size=_size((size,))).astype(dtype, copy=False)
    return _finish(array, device, False)


def randperm(n, device=None):
    device = _device.normalize(device)
    return _finish(generator(device).permutation(int(n)).astype(np.int64), device, False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Like ``torch.arange``: int64 when start, end and step are all ints, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = dtypes.int64 if integral else dtypes.DEFAULT_FLOAT
    array = np.arange(start, end, step, dtype=np.float64).astype(dtypes.resolve(dtype))
    return _finish(array, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    array = np.linspace(start, end, steps).astype(dtypes.resolve(dtype) or dtypes.DEFAULT_FLOAT)
    return _finish(array, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    array = np.eye(n, m, dtype=dtypes.resolve(dtype) or dtypes.DEFAULT_FLOAT)
    return _finish(array, device, requires_grad)


def _like(maker, other, dtype, device, requires_grad, **kwargs):
    return maker(
        other.shape,
        dtype=dtype or other.dtype,
        device=device or other.device,
        requires_grad=requires_grad,
        **kwargs,
    )


def zeros_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return full(
        input.shape,
        fill_value,
        dtype=dtype or input.dtype,
        device=device or input.device,
        requires_grad=requires_grad,
    )


def randn_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(randn, input, dtype, device, requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(rand, input, dtype, device, requires_grad)


def randint_like(input, low, high=None, dtype=None, device=None):  # noqa: A002
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device)


def bernoulli(input, p=None, *, generator=None):  # noqa: A002 - PyTorch's names
    """0/1 draws, 1 with probability ``input`` (element by element; or ``p`` for every
    element when given), in input's dtype. No gradient, as in PyTorch."""
    probabilities = _bernoulli_probabilities("bernoulli", input, p)
    return Tensor._wrap(bernoulli_draws(input, probabilities, rng=generator))


def bernoulli_draws(like, probabilities, rng=None):
    """An array of like's shape, dtype and device with 1 where a uniform draw in
    [0, 1) falls below the probability (a number or an array that broadcasts)."""
    rng = rng if rng is not None else generator(like.device)
    uniform = rng.random(like.shape)
    return (uniform < probabilities).astype(like.dtype)


def _bernoulli_probabilities(name, input, p):  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    probabilities = input.array if p is None else (p.array if isinstance(p, Tensor) else p)
    xp = _device.namespace(input.array)
    values = xp.asarray(probabilities)
    if values.size and (bool((values < 0).any()) or bool((values > 1).any())):
        raise RuntimeError(f"{name}: Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    return probabilities
