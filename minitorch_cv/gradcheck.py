"""Checking gradients against finite differences.

``check_backward(fn, inputs)`` compares the gradient that autograd computes with a
central finite difference, in float64:

- by default along ONE random unit direction d over all inputs (Chainer's method):
      numerical  = (L(x + eps d) - L(x - eps d)) / (2 eps)
      analytical = sum_i <grad_i, d_i>
  where L(x) = sum(fn(x) * grad_outputs); two evaluations of fn, whatever the size;
- with ``exhaustive=True``, every element of every input separately.

Inputs named in ``no_grads`` (by position) must receive no gradient at all. A failure
message prints everything needed to reproduce it.
"""
import numpy as np

from . import dtypes
from .autograd import no_grad
from .devices import namespace, to_device
from .tensor import Tensor


class GradientCheckError(AssertionError):
    """The analytical and numerical gradients disagree."""


def _as_float64_inputs(inputs):
    """Fresh float64 leaves (requiring grad) with the same values and device. A
    non-contiguous input stays non-contiguous: the values are copied into a buffer of
    the same strides, so strided code paths are what gets checked."""
    result = []
    for x in inputs:
        if not isinstance(x, Tensor):
            raise TypeError(f"check_backward: inputs must be Tensors, got {type(x).__name__}")
        array = x.array
        if dtypes.is_floating(array.dtype):
            xp = namespace(array)
            copy = xp.empty_like(array, dtype=np.float64)
            copy[...] = array
            leaf = Tensor(copy)
            leaf.requires_grad = True
        else:
            leaf = Tensor(array)
        result.append(leaf)
    return result


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, (tuple, list)) else (out,)


def _default_grad_outputs(outputs, seed):
    rng = np.random.default_rng(seed + 1)
    return [
        to_device(rng.standard_normal(o.shape), o.device) if o.requires_grad else None
        for o in outputs
    ]


def _loss(outputs, grad_outputs):
    """L = sum_k <output_k, grad_output_k> as a Python float (float64 throughout)."""
    total = 0.0
    for out, g in zip(outputs, grad_outputs):
        if g is not None:
            total += float((out.array.astype(np.float64) * g).sum())
    return total


def numerical_grad(fn, inputs, grad_outputs=None, eps=1e-6):
    """Central-difference gradient of L = sum(fn(inputs) * grad_outputs) with respect
    to every floating input, element by element (float64). Returns one array per
    input (None for non-floating inputs)."""
    leaves = _as_float64_inputs(inputs)
    with no_grad():
        outputs = _outputs(fn, leaves)
    if grad_outputs is None:
        grad_outputs = [to_device(np.ones(o.shape), o.device) for o in outputs]
    else:
        grad_outputs = [None if g is None else _array(g) for g in grad_outputs]
    grads = []
    for leaf in leaves:
        if not dtypes.is_floating(leaf.dtype):
            grads.append(None)
            continue
        array = leaf.array
        grad = np.zeros(array.shape)
        for index in np.ndindex(array.shape):
            original = float(array[index])
            array[index] = original + eps
            with no_grad():
                plus = _loss(_outputs(fn, leaves), grad_outputs)
            array[index] = original - eps
            with no_grad():
                minus = _loss(_outputs(fn, leaves), grad_outputs)
            array[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        grads.append(to_device(grad, leaf.device))
    return grads


def _array(value):
    return value.array if isinstance(value, Tensor) else value


def check_backward(
    fn,
    inputs,
    grad_outputs=None,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-4,
    no_grads=None,
    exhaustive=False,
    seed=0,
):
    """Assert that autograd's gradient of ``fn`` at ``inputs`` matches finite differences.

    fn:           takes the inputs (Tensors) and returns a Tensor or a tuple of Tensors.
    inputs:       Tensors; floating ones are checked in float64 on their own device.
    grad_outputs: the output gradients (default: standard normal draws from ``seed``).
    no_grads:     positions of inputs that must receive no gradient even though they
                  require one (default: the non-floating inputs).
    exhaustive:   check every element by central differences instead of one direction.
    """
    inputs = list(inputs)
    leaves = _as_float64_inputs(inputs)
    if no_grads is None:
        no_grads = [i for i, x in enumerate(leaves) if not dtypes.is_floating(x.dtype)]
    # Floating inputs in no_grads keep requires_grad=True: the point is that the op
    # itself must send them nothing (a loss's target, a batch norm's running stats).
    no_grads = set(no_grads)

    outputs = _outputs(fn, leaves)
    if grad_outputs is None:
        grad_outputs = _default_grad_outputs(outputs, seed)
    else:
        grad_outputs = [None if g is None else _array(g).astype(np.float64) for g in grad_outputs]
    differentiable = [(o, g) for o, g in zip(outputs, grad_outputs) if g is not None and o.requires_grad]
    if not differentiable:
        raise GradientCheckError("check_backward: fn returned no output that requires grad")

    # Analytical: one backward of L = sum <output, grad_output>.
    loss = None
    for out, g in differentiable:
        term = (out * Tensor(g.astype(out.dtype))).sum()
        loss = term if loss is None else loss + term
    loss.backward()

    for i in no_grads:
        if leaves[i].grad is not None:
            raise GradientCheckError(
                f"check_backward: input {i} (shape {leaves[i].shape}) is listed in no_grads "
                f"but received a gradient"
            )
    checked = [i for i in range(len(leaves)) if i not in no_grads]
    analytical = {}
    for i in checked:
        grad = leaves[i].grad
        analytical[i] = np.zeros(leaves[i].shape) if grad is None else grad.numpy()

    def evaluate():
        with no_grad():
            return _loss(_outputs(fn, leaves), grad_outputs)

    if exhaustive:
        numerical = numerical_grad(fn, [leaves[i] if i in checked else inputs[i] for i in range(len(leaves))], grad_outputs, eps)
        for i in checked:
            expected, actual = np.asarray(to_device(numerical[i], "cpu")), analytical[i]
            if not np.allclose(actual, expected, atol=atol, rtol=rtol):
                worst = np.unravel_index(np.argmax(np.abs(actual - expected)), actual.shape)
                raise GradientCheckError(
                    _report(
                        f"input {i} element {tuple(int(w) for w in worst)}",
                        expected[worst], actual[worst], eps, atol, rtol, inputs, outputs,
                    )
                )
        return

    # Directional: a random unit direction d over all checked inputs together.
    rng = np.random.default_rng(seed)
    directions = {i: rng.standard_normal(leaves[i].shape) for i in checked}
    norm = np.sqrt(sum(float((d * d).sum()) for d in directions.values())) or 1.0
    directions = {i: d / norm for i, d in directions.items()}

    originals = {i: leaves[i].array.copy() for i in checked}
    for i in checked:
        leaves[i].array[...] = originals[i] + to_device(eps * directions[i], leaves[i].device)
    plus = evaluate()
    for i in checked:
        leaves[i].array[...] = originals[i] - to_device(eps * directions[i], leaves[i].device)
    minus = evaluate()
    for i in checked:
        leaves[i].array[...] = originals[i]

    numerical_value = (plus - minus) / (2 * eps)
    analytical_value = sum(float((analytical[i] * directions[i]).sum()) for i in checked)
    if not abs(analytical_value - numerical_value) <= atol + rtol * abs(numerical_value):
        raise GradientCheckError(
            _report(
                f"directional derivative along a random unit direction (seed={seed})",
                numerical_value, analytical_value, eps, atol, rtol, inputs, outputs,
            )
        )


def _report(what, numerical, analytical, eps, atol, rtol, inputs, outputs):
    lines = [
        f"gradient check failed: {what}",
        f"  numerical  = {numerical!r}",
        f"  analytical = {analytical!r}",
        f"  |difference| = {abs(analytical - numerical)!r} > atol + rtol*|numerical| = "
        f"{atol + rtol * abs(numerical)!r}",
        f"  eps={eps}, atol={atol}, rtol={rtol}",
    ]
    for k, x in enumerate(inputs):
        layout = "contiguous" if x.is_contiguous() else "non-contiguous"
        lines.append(f"  input {k}: shape={x.shape}, dtype={x.dtype}, device={x.device}, {layout}")
    for k, out in enumerate(outputs):
        lines.append(f"  output {k}: shape={out.shape}, dtype={out.dtype}")
    return "\n".join(lines)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False):
    """PyTorch's ``torch.autograd.gradcheck``: True if the gradients of ``func`` with
    respect to the inputs that require grad match finite differences, else raise
    ``GradientCheckError`` (or return False with ``raise_exception=False``).

    Every element is checked by central differences (``fast_mode=True``: one random
    direction, as ``check_backward`` does by default). Unlike PyTorch, which checks in
    the inputs' own dtype and warns unless it is float64, the check always runs in
    float64 on copies of the inputs. Inputs that do not require grad are held fixed.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    varying = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not varying:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of "
            "the them have requires_grad=True."
        )

    def on_varying(*values):
        arguments = list(inputs)
        for i, value in zip(varying, values):
            arguments[i] = value
        return func(*arguments)

    try:
        check_backward(
            on_varying, [inputs[i] for i in varying], eps=eps, atol=atol, rtol=rtol,
            exhaustive=not fast_mode,
        )
    except GradientCheckError:
        if raise_exception:
            raise
        return False
    return True
