"""Reverse-mode automatic differentiation: Function, the backward engine, no_grad."""
from .engine import backward
from .function import Context, Function, Node
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Context",
    "Function",
    "Node",
    "backward",
    "enable_grad",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]
