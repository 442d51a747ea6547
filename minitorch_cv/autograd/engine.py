"""The backward engine: walk the recorded graph from the outputs back to the leaves.

1. Collect every Node reachable from the outputs' ``grad_fn`` and order them so a node
   comes after every node that consumes its outputs (reverse topological order).
2. Visit them in that order. A node's output gradients are complete when it is visited
   (all consumers came first): the hooks registered on its outputs run, then it checks
   that nothing it saved was modified in place since (``versions.py``), calls
   ``Function.backward`` once and routes each input gradient along its edge: into the
   pending output gradient of the node that produced the input, or into the total of
   a leaf (summed when a tensor is used twice).
3. Each leaf's total goes through the leaf's hooks, then into its ``.grad``
   (``backward``) or into the result (``grad``).
4. Unless ``retain_graph=True``, each node frees what forward saved once it is done.

``grad(outputs, inputs)`` runs only the nodes through which some input is reached.
"""
import weakref

from .. import dtypes
from ..devices import array_module


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensor)/d(leaf) (times ``gradient``) into every leaf's ``.grad``,
    or only into the ``.grad`` of the tensors in ``inputs`` when it is given."""
    _refuse_create_graph("backward", create_graph)
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no grad_fn "
            "(did you forget requires_grad=True, or compute it under no_grad()?)"
        )
    roots = [(tensor, _seed("backward", tensor, gradient))]
    if inputs is None:
        leaf_grads, _ = _run(roots, bool(retain_graph))
        for leaf, grad in leaf_grads.values():
            _accumulate_into_leaf(leaf, grad)
        return
    inputs = _as_tuple(inputs)
    leaf_grads, captured = _run(roots, bool(retain_graph), inputs)
    for target in inputs:
        if target.grad_fn is None:
            found = leaf_grads.get(id(target), (None, None))[1]
        else:
            found = captured.get((target.grad_fn, target._output_index))
        if found is not None:
            _accumulate_into_leaf(target, found)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple of Tensors,
    without touching any ``.grad`` (PyTorch's ``torch.autograd.grad``).

    outputs, inputs: a Tensor or a sequence of Tensors. grad_outputs: the gradient of
    each output (None for a scalar output: 1). retain_graph: keep the graph for another
    backward (default: ``create_graph``). allow_unused: return None (zeros with
    ``materialize_grads``) for an input the outputs do not depend on, instead of
    raising. create_graph=True (gradients that are themselves differentiable) is not
    supported: backward functions compute on arrays, outside the graph.
    """
    _refuse_create_graph("grad", create_graph)
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad: grad_outputs has {len(grad_outputs)} entries for {len(outputs)} outputs"
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    for tensor in inputs:
        if not tensor.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = []
    for output, gradient in zip(outputs, grad_outputs):
        if not output.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        roots.append((output, _seed("grad", output, gradient)))

    leaf_grads, captured = _run(roots, bool(retain_graph), inputs)
    result = []
    for tensor in inputs:
        if tensor.grad_fn is None:
            value = leaf_grads.get(id(tensor), (None, None))[1]
        else:
            value = captured.get((tensor.grad_fn, tensor._output_index))
        if value is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                value = array_module(tensor.device).zeros(tensor.shape, dtype=tensor.dtype)
        result.append(None if value is None else _tensor_class()._wrap(value))
    return tuple(result)


def _run(roots, retain_graph, inputs=None):
    """Propagate the roots' seeds through the graph.

    Returns ``(leaf_grads, captured)``: leaf_grads maps id(leaf) to (leaf, total
    gradient after the leaf's hooks), captured maps (node, output index) to the
    gradient of each non-leaf tensor in ``inputs``. With ``inputs``, only the nodes
    through which one of them is reached run.
    """
    leaf_grads = {}
    pending = {}
    for tensor, seed in roots:
        if tensor.grad_fn is None:  # d(leaf)/d(leaf) = seed
            _add_leaf_grad(leaf_grads, tensor, seed)
        else:
            slots = pending.setdefault(tensor.grad_fn, [None] * len(tensor.grad_fn.output_meta))
            index = tensor._output_index
            slots[index] = seed if slots[index] is None else slots[index] + seed

    order = _reverse_topological_order([t.grad_fn for t, _ in roots if t.grad_fn is not None])
    wanted_leaves, wanted_outputs, runs = None, set(), None
    if inputs is not None:
        wanted_leaves = {id(t) for t in inputs if t.grad_fn is None}
        wanted_outputs = {(t.grad_fn, t._output_index) for t in inputs if t.grad_fn is not None}
        runs = _nodes_leading_to(order, wanted_leaves, {node for node, _ in wanted_outputs})

    captured = {}
    for node in order:
        output_grads = pending.pop(node, None)
        if output_grads is None:  # reachable, but no gradient flowed into it
            continue
        output_grads = _run_tensor_hooks(node, output_grads)
        for index, grad in enumerate(output_grads):
            if (node, index) in wanted_outputs and grad is not None:
                captured[(node, index)] = grad
        if runs is not None and node not in runs:
            continue
        if node.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (at {node.name()}): "
                "its saved tensors were freed by the first backward. Pass "
                "retain_graph=True to the first backward() to keep them."
            )
        node.check_saved_versions()
        output_grads = [
            g if g is not None else xp.zeros(shape, dtype=dtype)
            for g, (shape, dtype, xp) in zip(output_grads, node.output_meta)
        ]
        for index, ref in node.retained.items():
            retained = ref()
            if retained is not None:
                retained.grad = _tensor_class()._wrap(output_grads[index].copy())

        input_grads = node.function.backward(node.ctx, *output_grads)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.edges):
            raise RuntimeError(
                f"{node.function.__name__}.backward returned {len(input_grads)} gradients "
                f"for {len(node.edges)} forward arguments"
            )
        for edge, grad, meta in zip(node.edges, input_grads, node.input_meta):
            if edge is None or grad is None:
                continue
            _check_gradient(node, grad, meta)
            if isinstance(edge, tuple):
                producer, index = edge
                slots = pending.setdefault(producer, [None] * len(producer.output_meta))
                slots[index] = grad if slots[index] is None else slots[index] + grad
            elif wanted_leaves is None or id(edge) in wanted_leaves:
                _add_leaf_grad(leaf_grads, edge, grad)
        if not retain_graph:
            node.release()

    for key, (leaf, total) in leaf_grads.items():
        leaf_grads[key] = (leaf, _call_hooks(getattr(leaf, "_hooks", ()), total))
    return leaf_grads, captured


def _reverse_topological_order(roots):
    """Nodes reachable from ``roots``, each before the nodes that produced its inputs.

    An iterative depth-first search (deep networks would overflow Python's recursion
    limit) that emits a node after all its producers: reversing that post-order puts
    every consumer before its producers.
    """
    order, visited = [], set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(_producers(root)))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                order.append(node)
            elif child not in visited:
                visited.add(child)
                stack.append((child, iter(_producers(child))))
    order.reverse()
    return order


def _producers(node):
    return [edge[0] for edge in node.edges if isinstance(edge, tuple)]


def _nodes_leading_to(order, leaf_ids, target_nodes):
    """The nodes whose backward must run for gradients to reach a wanted leaf or a
    wanted non-leaf (whose node only needs its output gradients, not to run)."""
    runs = set()
    for node in reversed(order):  # producers before consumers
        for edge in node.edges:
            if edge is None:
                continue
            if isinstance(edge, tuple):
                if edge[0] in runs or edge[0] in target_nodes:
                    runs.add(node)
                    break
            elif id(edge) in leaf_ids:
                runs.add(node)
                break
    return runs


def _run_tensor_hooks(node, output_grads):
    """Hooks registered with Tensor.register_hook on this node's outputs see (and may
    replace) their complete gradient."""
    if not node.hooks:
        return output_grads
    output_grads = list(output_grads)
    for index, hooks in node.hooks.items():
        if output_grads[index] is not None:
            output_grads[index] = _call_hooks(hooks, output_grads[index])
    return output_grads


def _call_hooks(hooks, grad):
    for hook in list(hooks):
        replaced = hook(_tensor_class()._wrap(grad))
        if replaced is not None:
            if tuple(replaced.shape) != tuple(grad.shape):
                raise RuntimeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                    f"{tuple(replaced.shape)} for a tensor of shape {tuple(grad.shape)}"
                )
            grad = replaced.array
    return grad


def _seed(name, tensor, gradient):
    xp = array_module(tensor.device)
    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError(
                f"{name}: grad can be implicitly created only for scalar outputs, got "
                f"shape {tuple(tensor.shape)}; pass a gradient of that shape"
            )
        return xp.ones(tensor.shape, dtype=tensor.dtype)
    seed = gradient.array if hasattr(gradient, "array") else xp.asarray(gradient)
    if tuple(seed.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"{name}: gradient has shape {tuple(seed.shape)} but the tensor has "
            f"shape {tuple(tensor.shape)}"
        )
    return seed.astype(tensor.dtype, copy=False)


def _refuse_create_graph(name, create_graph):
    if create_graph:
        raise NotImplementedError(
            f"{name}: create_graph=True (differentiating a gradient again) is not supported: "
            "backward functions compute on arrays, outside the graph"
        )


def _as_tuple(values):
    if values is None or hasattr(values, "array"):
        return (values,)
    return tuple(values)


def _add_leaf_grad(leaf_grads, leaf, grad):
    if id(leaf) in leaf_grads:
        leaf_grads[id(leaf)] = (leaf, leaf_grads[id(leaf)][1] + grad)
    else:
        leaf_grads[id(leaf)] = (leaf, grad)


def _check_gradient(node, grad, meta):
    """A Function returning a gradient of the wrong shape or dtype is a bug in that
    Function; say so here rather than let it surface as a broadcasting error later."""
    shape, dtype = meta
    if tuple(grad.shape) != tuple(shape) or grad.dtype != dtype:
        raise RuntimeError(
            f"{node.function.__name__}.backward returned a gradient of shape "
            f"{tuple(grad.shape)} and dtype {grad.dtype} for an input of shape "
            f"{tuple(shape)} and dtype {dtype}"
        )


def _accumulate_into_leaf(leaf, grad):
    """``leaf.grad += grad`` as in PyTorch; the first gradient is copied so that no
    two leaves (or a leaf and the graph) ever share a gradient array."""
    if not dtypes.is_floating(leaf.dtype):
        return
    if leaf.grad is None:
        leaf.grad = _tensor_class()._wrap(grad.astype(leaf.dtype, copy=True))
    else:
        leaf.grad = _tensor_class()._wrap(leaf.grad.array + grad)


def _tensor_class():
    """Gradients are plain Tensors, also for a Parameter (imported here: tensor.py
    imports this package)."""
    from ..tensor import Tensor

    return Tensor


def retain_grad(tensor):
    """Make a non-leaf tensor keep its gradient in ``.grad`` after backward."""
    if tensor.grad_fn is None:
        return
    tensor.grad_fn.retained[tensor._output_index] = weakref.ref(tensor)


def register_hook(tensor, hook):
    """Call ``hook(grad)`` with the gradient of ``tensor`` whenever it is computed; a
    returned Tensor replaces the gradient. Returns a handle with ``remove()``."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor.grad_fn is None:
        if not hasattr(tensor, "_hooks"):
            tensor._hooks = []
        hooks = tensor._hooks
    else:
        hooks = tensor.grad_fn.hooks.setdefault(tensor._output_index, [])
    hooks.append(hook)
    return _HookHandle(hooks, hook)


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
