"""Gradient checkpointing: keep a function's inputs, not its intermediate results, and
compute them again during the backward pass (Chen et al. 2016, "Training deep nets with
sublinear memory cost"; PyTorch's ``torch.utils.checkpoint.checkpoint``).

    y = checkpoint(function, x1, x2, ...)        # same value as function(x1, x2, ...)

Forward: ``function`` runs under ``no_grad``, so none of the arrays it makes inside are
kept by a graph; only the inputs (which exist anyway) are saved. Backward: ``function``
runs again on the saved inputs, this time recording its graph, and the incoming gradient
is back-propagated through that short-lived graph: its intermediates live only while
this one node is being differentiated. The price is one more forward of ``function``.

What the recomputation implies (as in PyTorch):
- Parameters used inside ``function`` get their gradients during the recomputation
  (accumulated into ``.grad`` like any leaf's).
- Side effects happen twice: a BatchNorm in training mode updates its running
  statistics in the forward and again in the recomputation.
- ``function`` must compute the same thing both times: no random ops inside (the
  random generators are not rewound for the recomputation).
- With no input that requires a gradient (or under ``no_grad``), ``function`` is simply
  called: its parameters still get gradients, nothing is saved.
"""
from ..tensor import Tensor
from .engine import backward as run_backward
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad


class Checkpoint(Function):
    @staticmethod
    def forward(ctx, function, *arrays):
        with no_grad():
            out = function(*(Tensor._wrap(a) for a in arrays))
        _check_output(out)
        ctx.function = function
        ctx.save_for_backward(*arrays)
        return out.array

    @staticmethod
    def backward(ctx, grad):
        inputs = []
        for array, needs_grad in zip(ctx.saved_tensors, ctx.needs_input_grad[1:]):
            leaf = Tensor._wrap(array)
            if needs_grad:
                leaf.requires_grad_(True)
            inputs.append(leaf)
        with enable_grad():
            out = ctx.function(*inputs)
        if out.requires_grad:  # False if nothing in function depends on a leaf
            run_backward(out, grad)
        input_grads = tuple(
            None if leaf.grad is None else leaf.grad.array for leaf in inputs
        )
        return (None,) + input_grads


def _check_output(out):
    if not isinstance(out, Tensor):
        raise TypeError(
            f"checkpoint: function must return a single Tensor, got {type(out).__name__}"
        )


def checkpoint(function, *args):
    """``function(*args)``, recomputed in the backward pass instead of stored (see the
    module docstring). ``args`` are Tensors; ``function`` returns one Tensor."""
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    for index, arg in enumerate(args):
        if not isinstance(arg, Tensor):
            raise TypeError(
                f"checkpoint: args[{index}] must be a Tensor, got {type(arg).__name__}"
            )
    if not (is_grad_enabled() and any(arg.requires_grad for arg in args)):
        out = function(*args)
        _check_output(out)
        return out
    return Checkpoint.apply(function, *args)
