"""Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), PyTorch's exact rules.

For each parameter p with gradient g, at step t = 1, 2, ... (``maximize`` flips g):

    Adam:   g = g + weight_decay * p            (L2 penalty folded into the gradient)
    AdamW:  p = p * (1 - lr * weight_decay)     (decoupled decay, applied to p directly)
    m = m + (1 - beta1) * (g - m)               (= beta1 m + (1 - beta1) g)
    v = beta2 * v + (1 - beta2) * g * g
    v_max = max(v_max, v)                       (amsgrad only; then v_max replaces v)
    denom = sqrt(v) / sqrt(1 - beta2^t) + eps
    p = p - (lr / (1 - beta1^t)) * m / denom

The step counter t is a float32 CPU tensor in the state (as in PyTorch), so the bias
corrections are computed on the host without touching the device.
"""
import math

import numpy as np

from ..autograd import no_grad
from ..devices import namespace
from ..tensor import Tensor
from .optimizer import Optimizer


class Adam(Optimizer):
    _decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, p, amsgrad):
        xp = namespace(p.array)
        state = self.state[p]
        state["step"] = Tensor._wrap(np.zeros((), dtype=np.float32))
        state["exp_avg"] = Tensor._wrap(xp.zeros_like(p.array))
        state["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(p.array))
        if amsgrad:
            state["max_exp_avg_sq"] = Tensor._wrap(xp.zeros_like(p.array))
        return state

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = namespace(p.array)
                param = p.array
                grad = -p.grad.array if group["maximize"] else p.grad.array
                state = self.state[p] if len(self.state[p]) > 0 else self._init_state(p, amsgrad)
                state["step"].array += 1
                step = float(state["step"].array)

                if weight_decay != 0:
                    if self._decoupled_weight_decay:
                        param *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * param

                exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
                _lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad

                bias_correction1 = 1 - beta1**step
                bias_correction2_sqrt = math.sqrt(1 - beta2**step)
                step_size = lr / bias_correction1
                if amsgrad:
                    if "max_exp_avg_sq" not in state:  # a state loaded from amsgrad=False
                        state["max_exp_avg_sq"] = Tensor._wrap(xp.zeros_like(param))
                    max_exp_avg_sq = state["max_exp_avg_sq"].array
                    xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    denom = xp.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
                else:
                    denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
                param += -step_size * exp_avg / denom
                p._bump_version()  # in place: a graph that saved p can no longer use it
        return loss


def _lerp_(start, end, weight):
    """start += weight * (end - start), in place, evaluated as PyTorch's lerp does (from
    the nearer end, which is exact at weight 0 and 1)."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2): p *= 1 - lr * weight_decay
    before the Adam update, instead of adding weight_decay * p to the gradient."""

    _decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
