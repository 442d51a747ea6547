"""What a network did on one input: every layer call in order, recorded through forward hooks.

    steps, output = run_recorded(model, x, stop_at="features.7")

runs ``model(x)`` in eval mode without autograd, with a forward hook
(``Module.register_forward_hook``) on every leaf module (a module without children).
Each call becomes a ``Step``: the module, its dotted name, the tensor it received and the
one it returned (from which projection.py recomputes a max pooling's switches). With
``stop_at`` the run ends as soon as that module returns (a hook raises a private
exception that ``run_recorded`` catches), so looking at an early layer costs only the
layers before it, and works on images of any size the convolutions accept.

``chain_to(steps, x, output)`` then checks that the steps up to the one that produced
``output`` form a chain, each step's input being the previous step's output (or a
reshaping of it, such as the ``flatten`` that a model's forward may do between two
modules). That is what makes a network "Sequential-style": a residual addition, a
concatenation or any other computation outside a module breaks the chain, and the
projections of projection.py refuse such a network with ``NotInvertibleError`` naming
the place.

The model is put in eval mode for the run (dropout off, batch norm on its running
statistics: the network as it predicts) and its mode restored afterwards.
"""
import contextlib
from dataclasses import dataclass

from .. import nn
from ..autograd import no_grad
from ..creation import as_tensor
from ..devices import namespace
from ..tensor import Tensor


class NotInvertibleError(ValueError):
    """The network (or one of its layers) cannot be projected back to its input."""


@dataclass
class Step:
    name: str  # dotted name in the model ("features.3"); "" for the model itself
    module: nn.Module
    input: Tensor
    output: Tensor


class _Stop(Exception):
    """Raised by the hook of ``stop_at`` to end the forward pass early."""


def resolve_layer(model, layer):
    """(name, module) of ``layer``: a dotted name in ``model`` or one of its modules."""
    names = {id(module): name for name, module in model.named_modules()}
    if isinstance(layer, nn.Module):
        if id(layer) not in names:
            raise ValueError(f"layer: {type(layer).__name__} is not a module of this model")
        return names[id(layer)], layer
    if not isinstance(layer, str):
        raise TypeError(f"layer: expected a module name such as 'features.3' or a Module, got {layer!r}")
    try:
        return layer, model.get_submodule(layer)
    except AttributeError:
        raise ValueError(
            f"layer: the model has no module named {layer!r}; "
            f"its modules: {sorted(name for name in names.values() if name)}"
        ) from None


def run_recorded(model, x, stop_at=None):
    """(steps, output): the leaf-module calls of ``model(x)`` in order, and the output of
    ``stop_at`` (a name or module; the run ends there) or of the whole model."""
    target = resolve_layer(model, stop_at)[1] if stop_at is not None else None
    names = {id(module): name for name, module in model.named_modules()}
    steps = []
    result = {}

    def record(module, args, output):
        steps.append(Step(names[id(module)], module, args[0] if args else None, output))

    def stop(module, args, output):
        result["output"] = output
        raise _Stop

    handles = [m.register_forward_hook(record) for m in model.modules() if next(m.children(), None) is None]
    if target is not None:
        handles.append(target.register_forward_hook(stop))  # after `record`: a leaf target is recorded first
    try:
        with evaluating(model), no_grad():
            result["output"] = model(x)
    except _Stop:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return steps, result["output"]


@contextlib.contextmanager
def evaluating(model):
    """The model in eval mode inside the block, its own mode restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def chain_to(steps, x, output):
    """The steps from the input ``x`` to the one that returned ``output``, checked to be a
    chain (see the module docstring). Raises NotInvertibleError where it is not."""
    last = next((i for i in reversed(range(len(steps))) if steps[i].output is output), None)
    if last is None:
        raise NotInvertibleError(
            "the layer's output was not returned by a leaf module: it is computed in a "
            "forward() (a residual addition, a concatenation ...), which cannot be inverted"
        )
    chain = steps[: last + 1]
    previous_output, previous_name = x, "the input"
    for step in chain:
        if not _same_values(step.input, previous_output):
            raise NotInvertibleError(
                f"cannot invert the network at {step.name!r} ({type(step.module).__name__}): its "
                f"input is not the output of {previous_name} (a residual connection, a "
                "concatenation or another computation outside the modules)"
            )
        previous_output, previous_name = step.output, repr(step.name)
    return chain


def _same_values(received, produced):
    """True when ``received`` is ``produced`` or the same values reshaped (a flatten)."""
    if received is produced:
        return True
    if not isinstance(received, Tensor) or not isinstance(produced, Tensor):
        return False
    if received.numel() != produced.numel():
        return False
    xp = namespace(received.array)
    return bool(xp.array_equal(received.array.reshape(-1), produced.array.reshape(-1)))


def as_batch(model, x):
    """``x`` as a float (N, C, H, W) Tensor on the model's device (detached), and whether
    it came without a batch dimension (C, H, W)."""
    parameter = next(model.parameters(), None)
    x = as_tensor(x, device=parameter.device if parameter is not None else None).detach()
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise ValueError(
            f"x: expected an image (C, H, W) or a batch (N, C, H, W), got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise TypeError(f"x: expected a floating-point image (the model's input), got {x.dtype}")
    return x, unbatched
