"""``Parameter``: a Tensor that a Module registers as one of its learnable weights.

Assigning a Parameter to a Module attribute (``self.weight = Parameter(...)``) adds it
to ``module.parameters()``, which is what an optimizer is given. A Parameter is a
Tensor in every other respect (``isinstance(p, Tensor)`` is true) and requires a
gradient by default. It shares its array with the tensor it was made from, as in
PyTorch.
"""
import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)  # PyTorch's Parameter() is an empty tensor
        if isinstance(data, Tensor):
            if data.grad_fn is not None:
                # A parameter is a leaf; wrapping a graph output would silently cut it.
                data = data.detach()
            array = data.array
        elif hasattr(data, "dtype") and hasattr(data, "shape"):
            array = data
        else:
            raise TypeError(
                f"Parameter: data must be a Tensor or an array, got {type(data).__name__}"
            )
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        copied = Parameter(self.array.copy(), requires_grad=self.requires_grad)
        if self.grad is not None:
            copied.grad = Tensor._wrap(self.grad.array.copy())
        memo[id(self)] = copied
        return copied
