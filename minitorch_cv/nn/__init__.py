"""Neural-network building blocks: ``functional`` (the ops) and, as they land,
Module, layers and init."""
from . import functional

__all__ = ["functional"]
