"""Neural-network building blocks: ``functional`` (the ops) and, as they land,
Module, layers and init."""
from . import functional, init
from .containers import ModuleDict, ModuleList, Sequential
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .module import Module
from .parameter import Parameter

__all__ = [
    "functional",
    "init",
    "Flatten",
    "Identity",
    "Linear",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "Sequential",
    "Unflatten",
]
