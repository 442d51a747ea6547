"""Version counters: how autograd notices that an array it saved was changed in place.

Every tensor carries a version counter, an integer that each in-place operation on the
tensor increments (``x.add_(1)``, ``x += 1``, ``x[0] = 2``, ``F.relu(x, inplace=True)``,
an optimizer step), whether gradients are being recorded or not. Tensors that share
memory through a view (``x.view(...)``, ``x[0]``, ``x.detach()``, ``x.data``) share one
counter, because writing through one of them writes the others.

When a Function's forward keeps an array for backward (``ctx.save_for_backward(x)``, or
an array stored as an attribute of ctx), ``Function.apply`` notes the version of every
input or output tensor whose memory that array lies in. Before the backward runs, the
engine compares: another version means that the values backward would read are no
longer the ones forward saw, and it raises PyTorch's error instead of returning a
silently wrong gradient::

    a = mt.randn(3, requires_grad=True)
    b = mt.randn(3)
    loss = (a * b).sum()     # Mul saves a and b; b is at version 0
    with mt.no_grad():
        b.fill_(7)           # b is at version 1
    loss.backward()          # RuntimeError: one of the variables needed for gradient
                             # computation has been modified by an inplace operation ...

Writing into ``x.array`` directly bypasses the counter (NumPy cannot tell us); the
public in-place methods and ``x[...] = v`` never do.
"""


class VersionCounter:
    """A mutable integer shared by the tensors that share memory."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0

    def bump(self):
        self.value += 1


def storage(array):
    """The object that owns ``array``'s memory: NumPy and CuPy views point to it through
    ``.base``. A view and the array it was taken from have the same storage."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _kept_arrays(ctx):
    """Every array that a forward left for its backward: the saved tensors and the
    arrays among ctx's attributes (directly or inside a tuple or list)."""
    values = list(ctx._saved)
    for name, value in vars(ctx).items():
        if name in ("_saved", "_dirty"):  # (dirty arrays are outputs, not kept for backward)
            continue
        values.extend(value if isinstance(value, (tuple, list)) else (value,))
    return [v for v in values if hasattr(v, "shape") and hasattr(v, "dtype") and hasattr(v, "base")]


def record(ctx, inputs, outputs):
    """The versions to check before this call's backward: (counter, version, what) for
    every input or output tensor whose storage holds an array that ctx kept."""
    kept = {id(storage(a)) for a in _kept_arrays(ctx)}
    if not kept:
        return ()
    entries = []
    for role, tensors in (("input", inputs), ("output", outputs)):
        for index, tensor in tensors:
            if id(storage(tensor.array)) in kept:
                what = (
                    f"[{tensor.dtype} tensor of shape {tuple(tensor.shape)}], {role} {index}"
                )
                entries.append((tensor._version_counter, tensor._version_counter.value, what))
    return tuple(entries)


def check(entries, node_name):
    """Raise PyTorch's error if a tensor recorded by ``record`` changed since."""
    for counter, version, what in entries:
        if counter.value != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: {what} of {node_name}, is at version "
                f"{counter.value}; expected version {version} instead. Hint: the forward "
                "pass saved it for the backward pass; modify a .clone() instead, or make "
                "the change before the forward pass."
            )
