"""``Size``: a tensor's shape, PyTorch's ``torch.Size``.

A tuple of ints (``x.shape == (2, 3)``, unpacking, indexing, ``len`` all work as for a
tuple) with ``numel()``; slicing and concatenation give a ``Size`` again. Its repr is
PyTorch's (``minitorch_cv.Size([2, 3])``); ``str()`` stays the tuple's ``(2, 3)`` so
that error messages read as before.
"""
import math


class Size(tuple):
    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(s) for s in sizes))

    def numel(self):
        """The number of elements of a tensor of this shape (1 for ``Size([])``)."""
        return math.prod(self)

    def __getitem__(self, key):
        item = super().__getitem__(key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __repr__(self):
        return f"minitorch_cv.Size({list(self)})"

    def __str__(self):
        return tuple.__repr__(self)

    def __reduce__(self):
        return (Size, (tuple(self),))
