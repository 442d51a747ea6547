"""The backward engine: walk the recorded graph from an output back to the leaves.

1. Collect every Node reachable from the output's ``grad_fn`` and order them so a node
   comes after every node that consumes its outputs (reverse topological order).
2. Visit them in that order. A node's output gradients are complete when it is visited
   (all consumers came first), so it calls ``Function.backward`` once and routes each
   input gradient along its edge: into a leaf's ``.grad``, or into the pending output
   gradient of the node that produced the input (summed when a tensor is used twice).
3. Unless ``retain_graph=True``, each node frees what forward saved once it is done.
"""
import weakref

from .. import dtypes
from ..devices import array_module


def backward(tensor, gradient=None, retain_graph=False):
    """Accumulate d(tensor)/d(leaf) (times ``gradient``) into every leaf's ``.grad``."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no grad_fn "
            "(did you forget requires_grad=True, or compute it under no_grad()?)"
        )
    xp = array_module(tensor.device)
    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, got "
                f"shape {tuple(tensor.shape)}; pass gradient=... of that shape"
            )
        seed = xp.ones(tensor.shape, dtype=tensor.dtype)
    else:
        seed = gradient.array if hasattr(gradient, "array") else xp.asarray(gradient)
        if tuple(seed.shape) != tuple(tensor.shape):
            raise RuntimeError(
                f"backward: gradient has shape {tuple(seed.shape)} but the tensor has "
                f"shape {tuple(tensor.shape)}"
            )
        seed = seed.astype(tensor.dtype, copy=False)

    if tensor.grad_fn is None:  # backward() on a leaf: d(leaf)/d(leaf) = gradient
        _accumulate_into_leaf(tensor, seed)
        return

    root = tensor.grad_fn
    pending = {root: [None] * len(root.output_meta)}
    pending[root][tensor._output_index] = seed

    for node in _reverse_topological_order(root):
        output_grads = pending.pop(node, None)
        if output_grads is None:  # reachable, but no gradient flowed into it
            continue
        if node.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (at {node.name()}): "
                "its saved tensors were freed by the first backward. Pass "
                "retain_graph=True to the first backward() to keep them."
            )
        output_grads = [
            g if g is not None else array_module.zeros(shape, dtype=dtype)
            for g, (shape, dtype, array_module) in zip(output_grads, node.output_meta)
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
            else:
                _accumulate_into_leaf(edge, grad)
        if not retain_graph:
            node.release()


def _reverse_topological_order(root):
    """Nodes reachable from ``root``, each before the nodes that produced its inputs.

    An iterative depth-first search (deep networks would overflow Python's recursion
    limit) that emits a node after all its producers: reversing that post-order puts
    every consumer before its producers.
    """
    order, visited = [], {root}
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
