"""A differential fuzz of the public functional API, run in its own process by
test_functional_fuzz.py (``python -m tests.robustness.functional_fuzz LOG EXAMPLES``).

Hypothesis draws calls of ``minitorch_cv.nn.functional`` with bad and good arguments
alike: tensors of any rank (sizes 0 to 4), dtypes float32/float64/float16/int64/bool,
values normal, zero, huge, NaN or infinite; ints such as -1, 0, 2**31, 2**40; floats,
None, strings, tuples of the wrong length where ints are expected. Each call runs with
the three kernel implementations (Numba, the NumPy reference, the CUDA kernels in the
bounds-checked emulation), followed by a backward pass when its output needs one. The
property: every run ends in a documented exception (TypeError, ValueError, IndexError,
RuntimeError; MemoryError for an output too large to allocate) or in a result, and the
three implementations agree: the same exception type, or the same outputs and gradients.

A crash (a segfault) kills this process: before each call the case is written to LOG
and flushed, faulthandler prints the stack, and the parent test reports the last case.
"""
import faulthandler
import resource
import sys
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.nn.functional as F
from minitorch_cv import backend

DOCUMENTED = (TypeError, ValueError, IndexError, RuntimeError, MemoryError)
IMPLEMENTATIONS = ("cpu", "reference", "cuda")
MEMORY_LIMIT = 6 << 30  # address space: a huge output is a MemoryError, not a swapping machine

# ------------------------------------------------------------------ argument pools
INTS = st.sampled_from([-1, 0, 1, 1, 2, 2, 3, 5, 2**31, 2**40])
ODD = st.sampled_from([1.5, -1.0, 1e300, float("nan"), float("inf"), None, True, "x", (1, 2, 3), (), (0, 1)])
DTYPES = ["float32", "float32", "float64", "float64", "float16", "int64", "bool"]
FILLS = ["normal", "normal", "normal", "zero", "huge", "nan", "inf"]


class Spec:
    """A tensor to build afresh for each implementation (gradients must not mix)."""

    def __init__(self, array, requires_grad):
        self.array, self.requires_grad = array, requires_grad

    def build(self):
        return mt.tensor(self.array.copy(), requires_grad=self.requires_grad)

    def __repr__(self):
        values = f", values={self.array.tolist()}" if self.array.size <= 16 else ""
        return f"tensor(shape={self.array.shape}, dtype={self.array.dtype}, grad={self.requires_grad}{values})"


def _values(draw, shape, dtype):
    fill = draw(st.sampled_from(FILLS))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values = {"normal": rng.standard_normal(shape), "zero": np.zeros(shape), "huge": np.full(shape, 1e30),
              "nan": np.where(rng.random(shape) < 0.3, np.nan, rng.standard_normal(shape)),
              "inf": np.where(rng.random(shape) < 0.3, np.inf, rng.standard_normal(shape))}[fill]
    if dtype.kind == "b":
        return values > 0
    if dtype.kind == "i":
        return np.nan_to_num(values * 3, nan=0, posinf=5, neginf=-5).astype(np.int64)
    with np.errstate(over="ignore"):
        return values.astype(dtype)


@st.composite
def tensors(draw, shape=None, dtypes=DTYPES, ndim=None):
    """Any tensor (a drawn rank, sizes 0 to 4), or one of ``shape``."""
    if shape is None:
        ndim = draw(st.integers(0, 5)) if ndim is None else ndim
        shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    return Spec(_values(draw, tuple(shape), dtype), dtype.kind == "f" and draw(st.booleans()))


def floats(shape):
    """A float32 or float64 tensor of ``shape`` (the dtype of a valid call)."""
    return tensors(shape=shape, dtypes=["float32", "float64"])


@st.composite
def same_dtype(draw, *shapes):
    """Float tensors of ``shapes`` with one dtype (what a valid call of several takes)."""
    dtype = draw(st.sampled_from(["float32", "float64"]))
    return [draw(tensors(shape=shape, dtypes=[dtype])) for shape in shapes]


@st.composite
def targets(draw, shape, classes):
    """int64 class indices in [0, classes), some of them -100 (ignore_index)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    array = rng.integers(0, max(classes, 1), size=shape)
    array[rng.random(shape) < draw(st.sampled_from([0.0, 0.3, 1.0]))] = -100
    return Spec(array.astype(np.int64), False)


BAD = st.one_of(ODD, INTS, tensors())  # what replaces one argument of a valid call


@st.composite
def perturbed(draw, valid):
    """A valid call's arguments, or (one time in three) the same with one argument replaced."""
    arguments = list(draw(valid))
    if draw(st.integers(0, 2)) == 0:
        arguments[draw(st.integers(0, len(arguments) - 1))] = draw(BAD)
    return tuple(arguments)


def maybe(strategy):
    return st.one_of(st.none(), strategy)


# ------------------------------------------------------------------ the calls
@st.composite
def conv2d(draw):
    N, G, Cg, Kg = draw(st.integers(0, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    H, W = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    KH, KW = draw(st.integers(1, H)), draw(st.integers(1, W))
    x, w, b = draw(same_dtype((N, G * Cg, H, W), (G * Kg, Cg, KH, KW), (G * Kg,)))
    padding = draw(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)), st.just("same")))
    stride = 1 if padding == "same" else draw(st.one_of(st.integers(1, 3), st.just(2**40)))
    return x, w, draw(st.sampled_from([b, None])), stride, padding, 1, G


@st.composite
def conv_transpose2d(draw):
    N, G, Cg, Kg = draw(st.integers(0, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    H, W, KH, KW = (draw(st.integers(1, 4)) for _ in range(4))
    x, w, b = draw(same_dtype((N, G * Cg, H, W), (G * Cg, Kg, KH, KW), (G * Kg,)))
    stride = draw(st.integers(1, 3))
    return x, w, draw(st.sampled_from([b, None])), stride, draw(st.integers(0, 1)), draw(st.integers(0, stride - 1)), G, 1


@st.composite
def linear(draw):
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    IN, OUT = draw(st.integers(0, 3)), draw(st.integers(1, 3))
    x, w, b = draw(same_dtype(lead + (IN,), (OUT, IN), (OUT,)))
    return x, w, draw(st.sampled_from([b, None]))


@st.composite
def image(draw, min_size=1):
    shape = (draw(st.integers(0, 2)), draw(st.integers(1, 2)), draw(st.integers(min_size, 5)), draw(st.integers(min_size, 5)))
    return draw(floats(shape))


@st.composite
def max_pool2d(draw):
    k = draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.just(2**40)))
    return draw(image(min_size=3)), k, stride, draw(st.integers(0, k // 2)), 1, draw(st.booleans()), draw(st.booleans())


@st.composite
def avg_pool2d(draw):
    k = draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.integers(1, 3)))
    divisor = draw(st.one_of(st.none(), st.integers(1, 3), st.just(2**40)))
    return draw(image(min_size=3)), k, stride, draw(st.integers(0, k // 2)), draw(st.booleans()), draw(st.booleans()), divisor


@st.composite
def adaptive(draw):
    size = draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.one_of(st.none(), st.integers(1, 4)))))
    return draw(image()), size


@st.composite
def max_unpool2d(draw):
    N, C, H, W = draw(st.integers(0, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    OH, OW = (H - 1) * stride + k, (W - 1) * stride + k
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    indices = Spec(rng.integers(0, OH * OW, size=(N, C, H, W)).astype(np.int64), False)
    return draw(floats((N, C, H, W))), indices, k, stride, 0


@st.composite
def interpolate(draw):
    mode = draw(st.sampled_from(["nearest", "bilinear", "bicubic"]))
    if draw(st.booleans()):
        size, scale = draw(st.one_of(st.integers(1, 6), st.tuples(st.integers(1, 6), st.integers(1, 6)))), None
    else:
        size, scale = None, draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, (2.0, 0.5)]))
    align = draw(st.booleans()) if mode != "nearest" else None
    return draw(image(min_size=1)), size, scale, mode, align


@st.composite
def batch_norm(draw):
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    x = draw(tensors(shape=(N, C) + spatial, dtypes=[dtype]))
    stats = [Spec(np.zeros(C, dtype), False), Spec(np.ones(C, dtype), False)] if draw(st.booleans()) else [None, None]
    weight, bias = (draw(maybe(tensors(shape=(C,), dtypes=[dtype]))) for _ in range(2))
    training = draw(st.booleans()) or stats[0] is None
    return x, stats[0], stats[1], weight, bias, training, 0.1, draw(st.sampled_from([1e-5, 1e-3]))


@st.composite
def layer_norm(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    k = draw(st.integers(1, len(shape)))
    normalized = shape[-k:]
    x, w, b = draw(same_dtype(shape, normalized, normalized))
    return x, normalized, draw(st.sampled_from([w, None])), draw(st.sampled_from([b, None])), 1e-5


@st.composite
def group_norm(draw):
    N, G, CG = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    x, w, b = draw(same_dtype((N, G * CG) + spatial, (G * CG,), (G * CG,)))
    return x, G, draw(st.sampled_from([w, None])), draw(st.sampled_from([b, None])), 1e-5


@st.composite
def local_response_norm(draw):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 4))) + tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return draw(floats(shape)), draw(st.one_of(st.integers(1, 5), st.just(2**31))), 1e-4, 0.75, 1.0


@st.composite
def softmax(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    return draw(floats(shape)), draw(st.integers(-len(shape), len(shape) - 1))


@st.composite
def class_loss(draw, with_smoothing):
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    extra = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    x = draw(floats((N, C) + extra))
    target = draw(targets((N,) + extra, C))
    weight = draw(maybe(tensors(shape=(C,), dtypes=[x.array.dtype.name])))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    if with_smoothing:
        return x, target, weight, -100, reduction, draw(st.sampled_from([0.0, 0.1, 1.0]))
    return x, target, weight, -100, reduction


@st.composite
def mse_loss(draw):
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    x, y = draw(same_dtype(shape, shape))
    return x, y, draw(st.sampled_from(["mean", "sum", "none"]))


@st.composite
def attention(draw):
    B, L, S, E, Ev = (draw(st.integers(1, 3)) for _ in range(5))
    q, k, v = draw(same_dtype((B, L, E), (B, S, E), (B, S, Ev)))
    mask = draw(st.one_of(st.none(), tensors(shape=(L, S), dtypes=["bool"]),
                          tensors(shape=(L, S), dtypes=[q.array.dtype.name])))
    return q, k, v, mask, draw(st.booleans()), draw(st.one_of(st.none(), st.sampled_from([0.5, 2.0])))


@st.composite
def pad(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    widths = tuple(draw(st.lists(st.integers(-1, 3), min_size=2, max_size=2 * min(len(shape), 2)).filter(lambda w: len(w) % 2 == 0)))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    return draw(floats(shape)), widths, mode, draw(st.sampled_from([0.0, 1.5]))


CALLS = {
    "conv2d": conv2d(), "conv_transpose2d": conv_transpose2d(), "linear": linear(),
    "max_pool2d": max_pool2d(), "avg_pool2d": avg_pool2d(), "adaptive_avg_pool2d": adaptive(),
    "adaptive_max_pool2d": adaptive(), "max_unpool2d": max_unpool2d(), "interpolate": interpolate(),
    "batch_norm": batch_norm(), "layer_norm": layer_norm(), "group_norm": group_norm(),
    "local_response_norm": local_response_norm(), "softmax": softmax(), "log_softmax": softmax(),
    "cross_entropy": class_loss(True), "nll_loss": class_loss(False), "mse_loss": mse_loss(),
    "scaled_dot_product_attention": attention(), "pad": pad(),
}


def invoke(name, arguments):
    """Call F.<name> with ``arguments`` (Specs built into tensors); returns the output."""
    built = [a.build() if isinstance(a, Spec) else a for a in arguments]
    tensors_in = [t for t in built if isinstance(t, mt.Tensor)]
    if name == "conv2d":
        x, w, b, stride, padding, dilation, groups = built
        return F.conv2d(x, w, b, stride, padding, dilation, groups), tensors_in
    if name == "conv_transpose2d":
        x, w, b, stride, padding, output_padding, groups, dilation = built
        return F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation), tensors_in
    if name == "max_pool2d":
        x, k, s, p, d, ceil, indices_too = built
        return F.max_pool2d(x, k, s, p, d, ceil, indices_too), tensors_in
    if name == "avg_pool2d":
        x, k, s, p, ceil, count_pad, divisor = built
        return F.avg_pool2d(x, k, s, p, ceil, count_pad, divisor), tensors_in
    if name == "interpolate":
        x, size, scale, mode, align = built
        return F.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=align), tensors_in
    if name == "batch_norm":
        x, running_mean, running_var, weight, bias, training, momentum, eps = built
        return F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps), tensors_in
    if name == "softmax" or name == "log_softmax":
        x, dim = built
        return getattr(F, name)(x, dim), tensors_in
    if name == "cross_entropy":
        x, target, weight, ignore_index, reduction, smoothing = built
        return F.cross_entropy(x, target, weight, ignore_index, reduction, smoothing), tensors_in
    if name == "scaled_dot_product_attention":
        q, k, v, mask, causal, scale = built
        return F.scaled_dot_product_attention(q, k, v, mask, 0.0, causal, scale), tensors_in
    if name == "pad":
        x, widths, mode, value = built
        return F.pad(x, widths, mode, value), tensors_in
    return getattr(F, name)(*built), tensors_in


def outcome(name, arguments):
    """("error", exception type name) or ("ok", outputs, input gradients) as arrays."""
    try:
        out, inputs = invoke(name, arguments)
        outputs = list(out) if isinstance(out, (tuple, list)) else [out]
        needs_grad = [o for o in outputs if isinstance(o, mt.Tensor) and o.requires_grad]
        if needs_grad:
            needs_grad[0].sum().backward()
        grads = [t.grad.numpy() if t.grad is not None else None for t in inputs if t.requires_grad]
        return ("ok", [o.detach().numpy() for o in outputs], grads)
    except DOCUMENTED as error:
        return ("error", type(error).__name__, str(error)[:200])


def close(a, b, magnitude):
    """Equal up to rounding: non-finite (NaN or infinite) in the same places, and the
    rest within a tolerance of the dtype relative to ``magnitude``, the largest number
    of the call (with inputs of 1e30, rounding differences of 1e22 are rounding). NaN
    and infinity count as one: algebraically equal forms give either from infinite
    inputs (x * inf - inf is NaN where (x - m) * inf is inf), and PyTorch's CPU and GPU
    kernels differ there too; a finite value against a non-finite one, or +inf against
    -inf, is an error."""
    if a is None or b is None:
        return a is b
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "biu":
        return bool(np.array_equal(a, b))
    tolerance = 1e-2 if a.dtype == np.float16 else 1e-3 if a.dtype == np.float32 else 1e-8
    finite = np.isfinite(a)
    if not np.array_equal(finite, np.isfinite(b)):
        return False
    both_infinite = np.isinf(a) & np.isinf(b)
    if not np.array_equal(a[both_infinite], b[both_infinite]):  # +inf against -inf is an error
        return False
    return bool(np.allclose(a[finite], b[finite], rtol=tolerance, atol=tolerance * max(1.0, magnitude)))


def _largest(arrays):
    finite = [np.abs(a[np.isfinite(a)]).max(initial=0.0) for a in arrays if a is not None and a.dtype.kind == "f"]
    return float(max(finite, default=0.0))


def agree(first, other, arguments):
    if first[0] != other[0]:
        return False
    if first[0] == "error":
        return first[1] == other[1]
    if len(first[1]) != len(other[1]) or len(first[2]) != len(other[2]):
        return False
    magnitude = _largest([a.array for a in arguments if isinstance(a, Spec)] + first[1])
    pairs = list(zip(first[1], other[1])) + list(zip(first[2], other[2]))
    return all(close(a, b, magnitude) for a, b in pairs)


def main(log_path, examples):
    """``examples`` drawn calls of each function of CALLS (see the module docstring)."""
    faulthandler.enable()
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    warnings.simplefilter("ignore")  # overflow and invalid-value warnings are part of the point
    log = open(log_path, "w")

    def check(name, arguments):
        results = {}
        for implementation in IMPLEMENTATIONS:
            log.write(f"{implementation} F.{name}{arguments!r}\n")
            log.flush()
            with backend.use_cpu_kernels(implementation):
                results[implementation] = outcome(name, arguments)
        first = results["cpu"]
        for implementation in IMPLEMENTATIONS[1:]:
            assert agree(first, results[implementation], arguments), (
                f"F.{name}: cpu gives {summary(first)}, {implementation} gives {summary(results[implementation])}"
            )

    for name in sorted(CALLS):

        @settings(max_examples=examples, derandomize=True, deadline=None, database=None, print_blob=True,
                  suppress_health_check=list(HealthCheck))
        @given(arguments=perturbed(CALLS[name]))
        def every_call_ends_in_a_documented_error_or_agreeing_results(arguments):
            check(name, arguments)

        every_call_ends_in_a_documented_error_or_agreeing_results()
    log.write("done\n")
    log.close()


def summary(result):
    if result[0] == "error":
        return f"{result[1]}: {result[2]}"
    return f"outputs {[o.tolist() if o.size <= 16 else (o.shape, o.dtype) for o in result[1]]}, gradients " + str(
        [g.tolist() if g is not None and g.size <= 16 else g is not None for g in result[2]]
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
