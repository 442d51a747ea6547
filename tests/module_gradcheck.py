"""Finite-difference gradient checks of a module with respect to its input AND its
parameters, through ``minitorch_cv.gradcheck.check_backward``.

check_backward differentiates with respect to fresh float64 leaves that it makes from
the tensors it is given, so the parameters are passed to it as extra inputs and those
leaves stand in the module's parameter slots from each call of ``fn`` until the check
ends (not only while ``fn`` runs: gradient checkpointing runs forward again during the
backward pass); the module's own Parameters are put back afterwards.
"""
from minitorch_cv.gradcheck import check_backward


def check_module_backward(module, inputs, call=None, **kwargs):
    """check_backward of ``module(*inputs)`` (or of ``call(module, *inputs)``) with respect
    to the inputs and every parameter of ``module`` (in float64; the module's own
    parameters stay unchanged)."""
    inputs = list(inputs)
    call = call or (lambda m, *args: m(*args))
    slots = []
    for name, param in module.named_parameters():
        owner_path, _, attr = name.rpartition(".")
        slots.append((module.get_submodule(owner_path), attr, param))

    def fn(*tensors):
        args, leaves = tensors[: len(inputs)], tensors[len(inputs):]
        for (owner, attr, _), leaf in zip(slots, leaves):
            owner._parameters[attr] = leaf  # the leaf is read by forward as the weight
        return call(module, *args)

    tensors = inputs + [param.detach() for _, _, param in slots]
    try:
        # The substitution must really reach forward, else both gradients would be zero.
        probes = [t.detach().requires_grad_() for t in tensors]
        outputs = fn(*probes)
        for out in outputs if isinstance(outputs, (tuple, list)) else (outputs,):
            out.sum().backward()
        for (name, _), probe in zip(module.named_parameters(), probes[len(inputs):]):
            assert probe.grad is not None, f"parameter {name} is not used by forward"
        check_backward(fn, tensors, **kwargs)
    finally:
        for owner, attr, param in slots:
            owner._parameters[attr] = param
