"""``Function``: one differentiable operation, its forward and backward side by side.

An op is written as::

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):            # arrays in, array(s) out
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad_out):       # one gradient per forward argument
            a, b = ctx.saved_tensors
            return grad_out * b, grad_out * a

and called as ``Mul.apply(x, y)`` with Tensors (or Python values for non-tensor
arguments). ``forward`` and ``backward`` see plain NumPy/CuPy arrays, never Tensors: the
graph is built here, in ``apply``, and walked by ``engine.backward``.

An in-place op writes into an input array, calls ``ctx.mark_dirty(x)`` and returns
``x`` itself (PyTorch's protocol): ``apply`` then returns the input Tensor, bumps its
version and moves its history onto this call, so the gradient flows through the
in-place op and on into whatever produced the tensor before (see ``versions.py`` for
how a changed saved array is detected).
"""
from .. import dtypes
from ..devices import namespace
from . import versions
from .grad_mode import is_grad_enabled


class Context:
    """What ``forward`` leaves for ``backward``.

    ``needs_input_grad[i]`` says whether forward argument ``i`` needs a gradient, so a
    backward can skip work (conv2d computes the weight gradient only when asked).
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._dirty = ()
        self._released = False

    def save_for_backward(self, *arrays):
        self._saved = arrays

    def mark_dirty(self, *arrays):
        """Forward wrote into these input arrays in place (and returns them)."""
        self._dirty = arrays

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to read saved "
                "tensors after they were freed). Pass retain_graph=True to the first "
                "backward() if you need to backward through the graph again."
            )
        return self._saved

    def release(self):
        """Drop everything forward stored, saved arrays and attributes alike, so their
        memory is freed (called after backward unless retain_graph=True)."""
        self.__dict__ = {
            "needs_input_grad": self.needs_input_grad,
            "_saved": (),
            "_dirty": (),
            "_released": True,
        }


class Node:
    """A recorded call of a Function: the graph vertex that ``grad_fn`` points to.

    ``edges[i]`` says where the gradient of forward argument ``i`` goes: ``None`` (no
    gradient needed), a leaf Tensor (accumulate into its ``.grad``) or a pair
    ``(node, output_index)`` of the Function call that produced the argument.
    """

    def __init__(self, function, ctx, edges, input_meta, output_meta):
        self.function = function
        self.ctx = ctx
        self.edges = edges
        self.input_meta = input_meta  # (shape, dtype) per argument, None for non-tensors
        self.output_meta = output_meta  # (shape, dtype, array module) per output
        self.retained = {}  # output index -> weakref of a Tensor that called retain_grad()
        self.hooks = {}  # output index -> hooks registered with Tensor.register_hook
        self.saved_versions = ()  # see versions.record
        self.freed = False

    def name(self):
        return self.function.__name__ + "Backward"

    @property
    def next_functions(self):
        """One ``(node, output_index)`` pair per Tensor argument of the call, as in
        PyTorch: the producer's node, an ``AccumulateGrad`` for a leaf that requires
        grad, ``(None, 0)`` for a tensor that needs no gradient."""
        pairs = []
        for edge, meta in zip(self.edges, self.input_meta):
            if meta is None:  # not a Tensor argument
                continue
            if edge is None:
                pairs.append((None, 0))
            elif isinstance(edge, tuple):
                pairs.append(edge)
            else:
                pairs.append((AccumulateGrad(edge), 0))
        return tuple(pairs)

    def check_saved_versions(self):
        versions.check(self.saved_versions, self.name())

    def __repr__(self):
        return f"<{self.name()}>"

    def release(self):
        self.ctx.release()
        self.freed = True


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf: the step that adds into ``.grad``."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


def _check_same_device(function, tensors):
    first = tensors[0]
    for other in tensors[1:]:
        if other.device != first.device:
            raise RuntimeError(
                f"{function.__name__}: expected all tensors on the same device, got "
                f"{first.device} (shape {tuple(first.shape)}) and {other.device} "
                f"(shape {tuple(other.shape)})"
            )
    return first.device


def _check_views_are_current(function, tensors):
    """A view whose base was modified in place by a recorded operation has a stale
    history (its values changed, its grad_fn did not): refuse to build on it."""
    for t in tensors:
        if t._base is not None and t._base.grad_fn is not t._base_grad_fn:
            raise RuntimeError(
                f"{function.__name__}: an input is a view of a tensor that was modified in "
                "place by a recorded operation after the view was taken, so the view's "
                "history is out of date (PyTorch would rebuild it; minitorch_cv does not). "
                "Take the view again after the in-place operation."
            )


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor

        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors:
            raise TypeError(f"{cls.__name__}: expected at least one Tensor argument")
        _check_same_device(cls, tensors)

        grad_mode = is_grad_enabled()
        if grad_mode:
            _check_views_are_current(cls, tensors)
        record = grad_mode and any(t.requires_grad for t in tensors)
        needs_input_grad = tuple(
            record and isinstance(a, Tensor) and a.requires_grad for a in args
        )
        ctx = Context(needs_input_grad)
        arrays = [a.array if isinstance(a, Tensor) else a for a in args]
        raw = cls.forward(ctx, *arrays, **kwargs)

        single = not isinstance(raw, tuple)
        outputs = tuple(_output_tensor(cls, r, args, ctx) for r in ((raw,) if single else raw))
        if record:
            edges = tuple(_edge(a) if needed else None for a, needed in zip(args, needs_input_grad))
            input_meta = tuple(
                (a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args
            )
            output_meta = tuple((o.shape, o.dtype, namespace(o.array)) for o in outputs)
            node = Node(cls, ctx, edges, input_meta, output_meta)
            for index, out in enumerate(outputs):
                # Integer/bool outputs (indices, masks) are never differentiable.
                if dtypes.is_floating(out.dtype):
                    out._set_grad_fn(node, index)
            node.saved_versions = versions.record(
                ctx,
                [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)],
                list(enumerate(outputs)),
            )
        return outputs[0] if single else outputs


def _output_tensor(function, array, args, ctx):
    """The Tensor for one array that forward returned: the input Tensor itself for an
    array written in place (its version bumped), else a new Tensor, which shares the
    version counter of an input whose memory it views."""
    from ..tensor import Tensor

    if any(array is dirty for dirty in ctx._dirty):
        for a in args:
            if isinstance(a, Tensor) and a.array is array:
                a._version_counter.bump()
                return a
        raise RuntimeError(
            f"{function.__name__}.forward marked an array dirty that is not one of its "
            "Tensor arguments"
        )
    out = Tensor._wrap(array)
    root = versions.storage(out.array)
    for a in args:
        if isinstance(a, Tensor) and versions.storage(a.array) is root:
            out._share_memory_with(a)
            break
    return out


def _edge(tensor):
    if tensor.grad_fn is None:
        return tensor  # a leaf: its gradient accumulates into tensor.grad
    return (tensor.grad_fn, tensor._output_index)
