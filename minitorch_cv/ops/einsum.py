"""``einsum(equation, *operands)``: sums of products over named indices.

"ij,jk->ik" multiplies matrices, "bij,bjk->bik" batches them, "ii->i" takes a
diagonal, "i,i->" is a dot product. Each letter names a dim; letters missing from the
output are summed over. "..." stands for the dims not named (broadcast together), and
without "->" the output is every letter used once, in alphabetical order.

The gradient of operand k is again an einsum: the output gradient times every other
operand, summed onto operand k's letters,

    grad_k[subscript_k] = einsum(out_subscript, other subscripts -> subscript_k)

except that a letter that appears in operand k only (summed away in forward) gets the
gradient broadcast along it, and a letter repeated within operand k (a diagonal) gets
it on that diagonal, with zeros elsewhere.
"""
import string

from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor
from .shape import expand


class Einsum(Function):
    @staticmethod
    def forward(ctx, inputs, output, *arrays):
        ctx.inputs, ctx.output = inputs, output
        ctx.save_for_backward(*arrays)
        return namespace(arrays[0]).einsum(",".join(inputs) + "->" + output, *arrays)

    @staticmethod
    def backward(ctx, grad):
        arrays = ctx.saved_tensors
        grads = []
        for k, (subscript, array) in enumerate(zip(ctx.inputs, arrays)):
            if not ctx.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            others = [(s, a) for j, (s, a) in enumerate(zip(ctx.inputs, arrays)) if j != k]
            grads.append(_operand_grad(grad, ctx.output, others, subscript, array.shape))
        return (None, None) + tuple(grads)


def _operand_grad(grad, output, others, subscript, shape):
    """einsum(grad, others -> subscript) handling letters only this operand has and
    repeated letters (see the module docstring)."""
    xp = namespace(grad)
    sizes = dict(zip(subscript, shape))
    available = set(output).union(*(s for s, _ in others))
    letters = "".join(dict.fromkeys(c for c in subscript if c in available))  # unique, ordered
    terms = [output] + [s for s, _ in others]
    partial = xp.einsum(",".join(terms) + "->" + letters, grad, *(a for _, a in others))
    unique = "".join(dict.fromkeys(subscript))
    # Broadcast along the letters this operand alone had: (letters) -> (unique).
    full_shape = tuple(sizes[c] for c in unique)
    order = [letters.index(c) for c in unique if c in letters]
    partial = partial.transpose(order) if order else partial
    expanded_shape = tuple(sizes[c] if c in letters else 1 for c in unique)
    partial = xp.broadcast_to(partial.reshape(expanded_shape), full_shape)
    if len(unique) == len(subscript):
        return xp.ascontiguousarray(partial.transpose([unique.index(c) for c in subscript]))
    # A repeated letter: write onto the diagonal positions of a zero array.
    result = xp.zeros(shape, dtype=grad.dtype)
    positions = []
    for c in subscript:
        index_shape = [1] * len(unique)
        index_shape[unique.index(c)] = sizes[c]
        positions.append(xp.arange(sizes[c]).reshape(index_shape))
    result[tuple(positions)] = partial
    return result


def parse_equation(equation, shapes):
    """(input subscripts, output subscript) with "..." replaced by letters, checked
    against the operands' shapes."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a string, got {type(equation).__name__}")
    equation = equation.replace(" ", "")
    if "->" in equation:
        lhs, output = equation.split("->", 1)
    else:
        lhs, output = equation, None
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(
            f"einsum(): more operands were provided than specified in the equation "
            f"({len(inputs)} subscripts, {len(shapes)} operands)"
            if len(shapes) > len(inputs)
            else f"einsum(): fewer operands were provided than specified in the equation "
            f"({len(inputs)} subscripts, {len(shapes)} operands)"
        )
    named = set("".join(inputs) + (output or "")) - set(".")
    for c in named:
        if c not in string.ascii_letters:
            raise ValueError(f"einsum(): invalid subscript given at index: {equation.index(c)} ({c!r})")
    spare = [c for c in string.ascii_letters if c not in named]
    ellipsis_dims = 0
    for subscript, shape in zip(inputs, shapes):
        named_count = len(subscript.replace("...", ""))
        if "..." in subscript:
            ellipsis_dims = max(ellipsis_dims, len(shape) - named_count)
        elif named_count != len(shape):
            raise ValueError(
                f"einsum(): the number of subscripts in the equation ({named_count}) does not "
                f"match the number of dimensions ({len(shape)}) for operand with subscript "
                f"{subscript!r}"
            )
    ellipsis_letters = "".join(spare[:ellipsis_dims])
    expanded = []
    for subscript, shape in zip(inputs, shapes):
        if "..." in subscript:
            count = len(shape) - len(subscript.replace("...", ""))
            if count < 0:
                raise ValueError(f"einsum(): operand with subscript {subscript!r} has too few dims")
            subscript = subscript.replace("...", ellipsis_letters[ellipsis_dims - count:])
        expanded.append(subscript)
    if output is None:
        counts = {}
        for c in "".join(inputs).replace("...", ""):
            counts[c] = counts.get(c, 0) + 1
        output = ellipsis_letters + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        output = output.replace("...", ellipsis_letters)
    sizes = {}
    for subscript, shape in zip(expanded, shapes):
        for c, size in zip(subscript, shape):
            if sizes.get(c, size) != size and 1 not in (sizes[c], size):
                raise RuntimeError(
                    f"einsum(): operands do not broadcast with remapped shapes: subscript {c!r} "
                    f"has sizes {sizes[c]} and {size}"
                )
            sizes[c] = max(sizes.get(c, size), size)
    for c in output:
        if c not in sizes:
            raise ValueError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    if len(set(output)) != len(output):
        raise ValueError(f"einsum(): output subscript appears more than once in the output: {output}")
    return expanded, output, sizes


def einsum(equation, *operands):
    """Einstein summation (see the module docstring); operands may also be one list."""
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operands must be Tensors, got {type(t).__name__}")
        if t.dtype != operands[0].dtype:
            raise TypeError(f"einsum(): expected operands of one dtype, got {operands[0].dtype} and {t.dtype}")
    inputs, output, sizes = parse_equation(equation, [t.shape for t in operands])
    # A size-1 dim broadcast against a larger one: expand it first (differentiably, so
    # its gradient is summed back), and every letter then has one size.
    operands = [
        expand(t, tuple(sizes[c] for c in subscript))
        if tuple(sizes[c] for c in subscript) != t.shape else t
        for subscript, t in zip(inputs, operands)
    ]
    return Einsum.apply(tuple(inputs), output, *operands)
