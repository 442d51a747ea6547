"""Weight initializers (``nn.init``), in place, with PyTorch's names and formulas.

Every function fills ``tensor`` in place (outside the autograd graph) and returns it.
Random values come from ``minitorch_cv.random.generator(tensor.device)``, so
``mt.manual_seed(s)`` makes an initialization reproducible. Values are drawn in float64
and then rounded to the tensor's dtype.

Fans, for a weight of shape (out, in, *kernel) (Linear: (out, in); Conv2d: (K, C/G,
KH, KW)):   receptive = prod(kernel),  fan_in = in * receptive,  fan_out = out * receptive.

    xavier (Glorot):  std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming (He):     std = gain / sqrt(fan),  fan = fan_in or fan_out (``mode``)
    a uniform(-bound, bound) has std bound / sqrt(3), so uniform versions use
    bound = sqrt(3) * std.
"""
import math
import warnings

from .. import devices as _device
from ..random import generator as _default_generator


def calculate_gain(nonlinearity, param=None):
    """The factor by which a nonlinearity shrinks the std of its input (PyTorch's table):
    linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)),
    selu 3/4."""
    linear_like = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                   "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear_like:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive_field = 1
    for size in tensor.shape[2:]:
        receptive_field *= size
    fan_in = tensor.shape[1] * receptive_field
    fan_out = tensor.shape[0] * receptive_field
    return fan_in, fan_out


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ------------------------------------------------------------ writing values in
def _generator(tensor, generator):
    return generator if generator is not None else _default_generator(tensor.device)


def _write(tensor, values):
    """Store ``values`` (float64, any device) into the tensor's own array, in place
    (the assignment rounds to the tensor's dtype, as astype would, without a copy)."""
    xp = _device.namespace(tensor.array)
    tensor.array[...] = xp.asarray(values)
    tensor._bump_version()  # an in-place change, as tensor.uniform_() in PyTorch
    return tensor


# The draws are scaled in place: the same numbers as low + (high - low) * u, without
# two more float64 temporaries of the tensor's size (VGG's 102M-value fc6 is built
# several times faster).
def _uniform_values(tensor, low, high, generator):
    values = _generator(tensor, generator).random(tensor.shape)
    values *= high - low
    values += low
    return values


def _normal_values(tensor, mean, std, generator):
    values = _generator(tensor, generator).standard_normal(tensor.shape)
    values *= std
    values += mean
    return values


# -------------------------------------------------------------- initializers
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with values drawn from U(a, b)."""
    return _write(tensor, _uniform_values(tensor, a, b, generator))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with values drawn from N(mean, std^2)."""
    return _write(tensor, _normal_values(tensor, mean, std, generator))


def constant_(tensor, val):
    tensor.array[...] = val
    tensor._bump_version()
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def eye_(tensor):
    """The identity matrix in a 2-D tensor (ones on the diagonal of a non-square one)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got {tensor.ndim}")
    xp = _device.namespace(tensor.array)
    tensor.array[...] = xp.eye(*tensor.shape, dtype=tensor.dtype)
    tensor._bump_version()
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = sqrt(3) * gain / sqrt(fan).

    ``a`` is the negative slope of the leaky_relu that follows. Linear and Conv layers
    call this with a = sqrt(5), which gives gain = sqrt(2 / 6) and bound = 1/sqrt(fan_in).
    """
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op")
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op")
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def _normal_mass(lo, hi):
    """P(lo <= Z <= hi) for a standard normal Z, accurate in either tail (erfc)."""
    if lo > 0:
        return 0.5 * (math.erfc(lo / math.sqrt(2.0)) - math.erfc(hi / math.sqrt(2.0)))
    if hi < 0:
        return _normal_mass(-hi, -lo)
    return 0.5 * (math.erf(hi / math.sqrt(2.0)) - math.erf(lo / math.sqrt(2.0)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with draws from N(mean, std^2) conditioned on a <= x <= b.

    The truncation is exact (rejection sampling): values outside [a, b] are redrawn,
    never clipped, so nothing piles up at the bounds. When [a, b] holds most of the
    normal's mass, candidates come from the normal itself; when it lies in a tail (or is
    narrow), they come from U(a, b) and are kept with probability
    density(x) / max density on [a, b]. Either way each kept value has exactly the
    truncated-normal distribution; the cheaper proposal is chosen.
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    xp = _device.namespace(tensor.array)
    rng = _generator(tensor, generator)
    lo, hi = (a - mean) / std, (b - mean) / std  # bounds in units of std
    mass = _normal_mass(lo, hi)  # acceptance rate of normal proposals
    nearest = min(max(0.0, lo), hi)  # the point of [lo, hi] closest to the mean
    # acceptance rate of uniform proposals: mean density over [lo, hi] / its maximum
    uniform_rate = 0.0
    if mass > 0:
        log_rate = math.log(mass * math.sqrt(2 * math.pi) / (hi - lo)) + 0.5 * nearest**2
        uniform_rate = math.exp(min(log_rate, 0.0))
    if max(mass, uniform_rate) < 1e-4:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds too little of N({mean}, {std}^2) "
            "to sample from; move the bounds closer to the mean"
        )

    count = tensor.numel()
    values = xp.empty(count, dtype=xp.float64)
    todo = xp.arange(count)
    while todo.size > 0:
        if mass >= uniform_rate:
            candidates = rng.standard_normal(todo.size)
            keep = (candidates >= lo) & (candidates <= hi)
        else:
            candidates = lo + (hi - lo) * rng.random(todo.size)
            ratio = xp.exp(-0.5 * (candidates**2 - nearest**2))
            keep = rng.random(todo.size) < ratio
        values[todo[keep]] = candidates[keep]
        todo = todo[~keep]
    # Clamp only guards the rounding of mean + std * z; z is already inside [lo, hi].
    return _write(tensor, xp.clip(mean + std * values, a, b).reshape(tensor.shape))


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix (Saxe et al. 2013), reshaped to the tensor's shape:
    Q from the QR decomposition of a standard normal matrix, signs fixed by diag(R)."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    xp = _device.namespace(tensor.array)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _generator(tensor, generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diag(r))  # make the decomposition unique (uniform over O(n))
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tensor.shape))
