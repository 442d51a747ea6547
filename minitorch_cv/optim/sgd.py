"""Stochastic gradient descent with momentum, PyTorch's exact update rule.

For each parameter p with gradient g (``maximize`` flips the sign of g):

    g = g + weight_decay * p                        (L2 penalty, if weight_decay != 0)
    b = g                                           (first step)
    b = momentum * b + (1 - dampening) * g          (later steps, if momentum != 0)
    g = g + momentum * b   if nesterov   else   g = b
    p = p - lr * g

Everything runs in place on the parameter's device; parameters without a gradient
are skipped.
"""
from ..autograd import no_grad
from ..devices import namespace
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
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p.array
                grad = -p.grad.array if group["maximize"] else p.grad.array
                if weight_decay != 0:
                    grad = grad + weight_decay * param
                if momentum != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = Tensor._wrap(namespace(grad).array(grad, copy=True))
                        buffer = state["momentum_buffer"].array
                    else:
                        buffer = state["momentum_buffer"].array
                        buffer *= momentum
                        buffer += (1 - dampening) * grad
                    grad = grad + momentum * buffer if nesterov else buffer
                param -= lr * grad
                p._bump_version()  # in place: a graph that saved p can no longer use it
        return loss
