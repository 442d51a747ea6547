"""Stochastic gradient descent with momentum, PyTorch's exact update rule.

For each parameter p with gradient g (``maximize`` flips the sign of g):

    g = g + weight_decay * p                        (L2 penalty, if weight_decay != 0)
    b = g                                           (first step)
    b = momentum * b + (1 - dampening) * g          (later steps, if momentum != 0)
    g = g + momentum * b   if nesterov   else   g = b
    p = p - lr * g

Everything runs in place on the parameter's device, one kernel call per parameter:
``sgd_step`` of the ``optimizer`` kernel family (kernels/reference/optimizer.py is its
specification) reads the parameter, its gradient and its momentum buffer once and writes
the parameter and the buffer once, where NumPy would make a pass per operation.
Parameters without a gradient are skipped.
"""
import numpy as np

from .. import backend
from ..autograd import no_grad
from ..devices import device_of_array, namespace
from ..tensor import Tensor
from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            momentum = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p.array
                first_step = False
                buffer = param  # not read or written when momentum == 0
                if momentum != 0:
                    state = self.state[p]
                    first_step = "momentum_buffer" not in state
                    if first_step:
                        state["momentum_buffer"] = Tensor._wrap(namespace(param).zeros(param.shape, param.dtype))
                    buffer = state["momentum_buffer"].array
                _sgd_kernels(param, buffer).sgd_step(
                    param, p.grad.array, buffer, group["lr"], momentum, group["dampening"],
                    group["weight_decay"], group["nesterov"], group["maximize"], first_step,
                )
                p._bump_version()  # in place: a graph that saved p can no longer use it
        return loss


def _sgd_kernels(param, buffer):
    """The kernels of the parameter's device; the NumPy specification for what the
    compiled forms do not take (float16, or a parameter that is a strided view)."""
    compiled = (param.dtype in (np.float32, np.float64) and param.flags.c_contiguous
                and buffer.flags.c_contiguous)
    return backend.OPTIMIZER.on(device_of_array(param)) if compiled else backend.OPTIMIZER.reference
