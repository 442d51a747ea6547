"""Reverse-mode automatic differentiation: Function, the backward engine, no_grad,
``grad`` and ``gradcheck`` under PyTorch's names."""
from . import versions
from .engine import backward, grad
from .function import Context, Function, Node
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False):
    """PyTorch's name for ``minitorch_cv.gradcheck.gradcheck`` (see there)."""
    from ..gradcheck import gradcheck as check

    return check(func, inputs, eps=eps, atol=atol, rtol=rtol,
                 raise_exception=raise_exception, fast_mode=fast_mode)


__all__ = [
    "Context",
    "Function",
    "Node",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
    "versions",
]
