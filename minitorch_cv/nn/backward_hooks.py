"""``Module.register_full_backward_hook``: see a module's input and output gradients.

PyTorch's mechanism, in miniature: when a module with backward hooks is called, its
tensor inputs that require grad pass through an identity Function on the way in, and
its tensor outputs through another on the way out. Backward then reaches the output
identity first, which records the gradients with respect to the outputs, and the input
identity last, which calls each hook as ``hook(module, grad_input, grad_output)``; a
hook may return a replacement for ``grad_input``. The gradients are those of the
module's own computation only, even when an input is also used elsewhere.

Like PyTorch, the outputs are then views made by a Function, so an in-place operation
on them while recording (``ReLU(inplace=True)`` right after the hooked module) is
refused.
"""
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor


class BackwardHookFunction(Function):
    """Identity on its tensors; its backward hands their gradients to ``callback``,
    which returns the gradients to pass on."""

    @staticmethod
    def forward(ctx, callback, *arrays):
        ctx.callback = callback
        return arrays

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.callback(grads))


class _Call:
    """One call of a hooked module: what its backward hooks need to see."""

    def __init__(self, module, inputs):
        self.module = module
        self.input_count = len(inputs)
        self.differentiable = [i for i, x in enumerate(inputs) if x.requires_grad]
        self.grad_output = None

    def on_grad_output(self, grads):
        self.grad_output = tuple(Tensor._wrap(g) for g in grads)
        if not self.differentiable:  # no input gradient will come: call the hooks now
            self._call_hooks((None,) * self.input_count)
        return grads

    def on_grad_input(self, grads):
        grad_input = [None] * self.input_count
        for position, grad in zip(self.differentiable, grads):
            grad_input[position] = Tensor._wrap(grad)
        grad_input = self._call_hooks(tuple(grad_input))
        return tuple(grad_input[i].array for i in self.differentiable)

    def _call_hooks(self, grad_input):
        for hook in list(self.module._backward_hooks.values()):
            replaced = hook(self.module, grad_input, self.grad_output)
            if replaced is not None:
                replaced = tuple(replaced) if isinstance(replaced, (tuple, list)) else (replaced,)
                if len(replaced) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook {getattr(hook, '__name__', hook)!r} returned "
                        f"{len(replaced)} gradients for {len(grad_input)} inputs"
                    )
                grad_input = replaced
        return grad_input


def call_with_backward_hooks(module, forward, args, kwargs):
    """``forward(*args, **kwargs)`` with the module's tensor arguments and outputs
    routed through BackwardHookFunction (nothing is wrapped under no_grad)."""
    if not is_grad_enabled():
        return forward(*args, **kwargs)
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    call = _Call(module, [args[i] for i in positions])
    if call.differentiable:
        originals = [args[positions[i]] for i in call.differentiable]
        wrapped = BackwardHookFunction.apply(call.on_grad_input, *originals)
        args = list(args)
        for i, tensor in zip(call.differentiable, wrapped):
            args[positions[i]] = tensor
    output = forward(*args, **kwargs)
    single = isinstance(output, Tensor)
    outputs = (output,) if single else output
    if not isinstance(outputs, (tuple, list)) or not all(isinstance(o, Tensor) for o in outputs):
        return output
    if not any(o.requires_grad for o in outputs):
        return output
    wrapped = BackwardHookFunction.apply(call.on_grad_output, *outputs)
    return wrapped[0] if single else type(outputs)(wrapped)
