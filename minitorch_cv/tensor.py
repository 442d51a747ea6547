"""``Tensor``: an array (NumPy on "cpu", CuPy on "gpu") plus what autograd needs.

A tensor holds
  - ``array``: the NumPy/CuPy array with the values (``.data`` is a detached Tensor
    sharing it, as in PyTorch);
  - ``requires_grad`` and ``grad``: whether gradients are wanted, and where they
    accumulate after ``backward()``;
  - ``grad_fn``: the graph node of the Function call that produced it (``None`` for
    leaves, the tensors a user created);
  - ``_version``: how many in-place operations changed its memory (shared with the
    tensors that view the same memory; see autograd/versions.py).

Every method that computes something is a thin call into ``minitorch_cv.ops``; the
arithmetic and its gradient live there, next to each other.
"""
import numpy as np

from . import autograd, dtypes
from . import devices as _device
from .size import Size


class Tensor:
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected op

    def __init__(self, array, requires_grad=False):
        """Wrap an existing NumPy/CuPy array (use ``minitorch_cv.tensor`` for Python data)."""
        if not hasattr(array, "dtype") or not hasattr(array, "shape"):
            raise TypeError(
                f"Tensor: expected a NumPy or CuPy array, got {type(array).__name__}; "
                "use minitorch_cv.tensor(data) to build a tensor from Python data"
            )
        dtypes.resolve(array.dtype)
        self.array = array
        self.grad = None
        self.grad_fn = None
        self._output_index = 0
        self._requires_grad = False
        self._init_version_and_view()
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, array):
        """Fast internal constructor for op outputs (no validation). The device is
        whatever the array says: NumPy on "cpu", CuPy on "gpu"."""
        tensor = cls.__new__(cls)
        if isinstance(array, np.generic):
            array = np.asarray(array)  # NumPy reductions return NumPy scalars
        tensor.array = array
        tensor.grad = None
        tensor.grad_fn = None
        tensor._output_index = 0
        tensor._requires_grad = False
        tensor._init_version_and_view()
        return tensor

    def _set_grad_fn(self, node, index):
        self.grad_fn = node
        self._output_index = index
        self._requires_grad = True

    # ------------------------------------------------- versions and views
    # See autograd/versions.py: in-place operations bump ``_version``; tensors that
    # share memory share the counter. ``_base`` is the tensor a view was taken from
    # (None for a tensor that is not a view), ``_base_grad_fn`` that tensor's history
    # when the view was taken.
    def _init_version_and_view(self):
        self._version_counter = autograd.versions.VersionCounter()
        self._base = None
        self._base_grad_fn = None

    @property
    def _version(self):
        """How many in-place operations changed this tensor's memory (PyTorch's name)."""
        return self._version_counter.value

    def _share_memory_with(self, other, view=True):
        """This tensor's array lies in ``other``'s memory: share its version counter
        and, for a view, remember the tensor it views."""
        self._version_counter = other._version_counter
        if view:
            self._base = other._base if other._base is not None else other
            self._base_grad_fn = self._base.grad_fn

    def _bump_version(self):
        """For code that writes into ``.array`` directly (optimizers, load_state_dict)."""
        self._version_counter.bump()

    # ----------------------------------------------------------------- metadata
    @property
    def dtype(self):
        """The element type, e.g. ``minitorch_cv.float32`` (equal to ``np.float32``)."""
        return dtypes.of(self.array.dtype)

    @property
    def device(self):
        """A ``minitorch_cv.device``: equal to "cpu" or "gpu", ``.type`` "cpu"/"cuda"."""
        return _device.device_of_array(self.array)

    @property
    def shape(self):
        return Size(self.array.shape)

    @property
    def ndim(self):
        return self.array.ndim

    def size(self, dim=None):
        if dim is None:
            return self.shape
        return self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_cuda(self):
        return self.device == _device.GPU

    def is_contiguous(self):
        return bool(self.array.flags.c_contiguous)

    def is_floating_point(self):
        return dtypes.is_floating(self.dtype)

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if flag and not dtypes.is_floating(self.dtype):
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"got dtype {self.dtype}"
            )
        if not flag and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad: you can only change the flag of leaf tensors; "
                "use .detach() to get a tensor outside the graph"
            )
        self._requires_grad = flag

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    # ------------------------------------------------------------ conversions
    @property
    def data(self):
        """A tensor sharing this one's array (and version counter), outside the graph
        (PyTorch's ``.data``)."""
        return self.detach()

    @data.setter
    def data(self, value):
        self.array = value.array if isinstance(value, Tensor) else value
        self._version_counter = autograd.versions.VersionCounter()  # other memory now

    def detach(self):
        """A tensor sharing this one's array and version counter, outside the graph."""
        detached = Tensor._wrap(self.array)
        detached._share_memory_with(self, view=False)
        return detached

    def numpy(self, *, force=False):
        """The values as a NumPy array (copied to the host for a "gpu" tensor).

        As in PyTorch, a tensor that requires grad must be detached first (or
        ``force=True`` given): the array would be outside the graph, and writing into
        it would bypass autograd."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._host_array()

    def _host_array(self):
        return _device.to_device(self.array, _device.CPU)

    def item(self):
        if self.numel() != 1:
            raise ValueError(
                f"item: only a tensor with one element can be converted to a Python "
                f"number, got shape {self.shape}"
            )
        return self.array.reshape(()).item()

    def tolist(self):
        return self._host_array().tolist()

    def to(self, *args, **kwargs):
        """PyTorch's ``to``: ``to(device=None, dtype=None, non_blocking=False,
        copy=False)``, ``to(dtype, ...)`` or ``to(other_tensor, ...)``; differentiable.

        Returns ``self`` when nothing changes (unless ``copy=True``). ``non_blocking``
        is accepted; host-device copies here are synchronous.
        """
        target = parse_to_arguments("Tensor.to", args, kwargs)
        result = self
        if target.dtype is not None and target.dtype != result.array.dtype:
            result = ops.cast(result, target.dtype)
        if target.device is not None and target.device != result.device:
            result = ops.to_device(result, target.device)
        if target.copy and result is self:
            result = ops.cast(result, result.array.dtype)  # astype always copies
        return result

    def cpu(self, memory_format=None):
        return self.to(_device.CPU)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """To the GPU; ``device`` may name it ("cuda", "cuda:0", 0) but there is one."""
        if device is not None and _device.device(device) != _device.GPU:
            raise ValueError(f"cuda: device: expected a GPU device, got {device!r}")
        return self.to(_device.GPU)

    def gpu(self):
        return self.to(_device.GPU)

    def double(self):
        return self.to(dtypes.float64)

    def float(self):
        return self.to(dtypes.float32)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool_)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if dtypes.is_floating(self.dtype):
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self.numel()} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(self._host_array(), separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.device != _device.CPU:
            extras.append(f"device='{self.device}'")
        if self.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # --------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self):
        autograd.engine.retain_grad(self)

    def register_hook(self, hook):
        """``hook(grad)`` runs when this tensor's gradient is computed and may return a
        replacement; returns a handle whose ``remove()`` unregisters it."""
        return autograd.engine.register_hook(self, hook)

    # ------------------------------------------------------ in-place updates
    # Each writes into this tensor's own array, bumps its version and, while
    # gradients are recorded, moves its history onto the operation (ops/inplace.py
    # has PyTorch's rules: a leaf that requires grad is changed only under no_grad()).
    def zero_(self):
        return ops.inplace.fill_(self, 0)

    def fill_(self, value):
        return ops.inplace.fill_(self, value)

    def copy_(self, src, non_blocking=False):
        return ops.inplace.copy_(self, src)

    def add_(self, other, alpha=1):
        return ops.inplace.add_(self, other, alpha)

    def sub_(self, other, alpha=1):
        return ops.inplace.sub_(self, other, alpha)

    def mul_(self, other):
        return ops.inplace.mul_(self, other)

    def div_(self, other):
        return ops.inplace.div_(self, other)

    def __iadd__(self, other):
        return ops.inplace.add_(self, other)

    def __isub__(self, other):
        return ops.inplace.sub_(self, other)

    def __imul__(self, other):
        return ops.inplace.mul_(self, other)

    def __itruediv__(self, other):
        return ops.inplace.div_(self, other)

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return ops.clamp_(self, min, max)

    clip_ = clamp_

    def normal_(self, mean=0.0, std=1.0):
        from .random import generator

        values = generator(self.device).standard_normal(self.shape) * std + mean
        return ops.inplace.fill_with_draws_("normal_", self, values)

    def uniform_(self, low=0.0, high=1.0):
        from .random import generator

        values = generator(self.device).uniform(low, high, self.shape)
        return ops.inplace.fill_with_draws_("uniform_", self, values)

    def __setitem__(self, key, value):
        ops.indexing.setitem(self, key, value)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, exponent):
        return ops.pow(self, exponent)

    def __rpow__(self, base):
        return ops.pow(base, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, key):
        return ops.getitem(self, key)

    # comparisons and logic (no gradient)
    def __eq__(self, other):
        return ops.eq(self, other)

    def __ne__(self, other):
        return ops.ne(self, other)

    def __lt__(self, other):
        return ops.lt(self, other)

    def __le__(self, other):
        return ops.le(self, other)

    def __gt__(self, other):
        return ops.gt(self, other)

    def __ge__(self, other):
        return ops.ge(self, other)

    def __and__(self, other):
        return ops.logical_and(self, other)

    def __or__(self, other):
        return ops.logical_or(self, other)

    def __invert__(self):
        return ops.logical_not(self)

    def add(self, other, alpha=1):
        return ops.add(self, other if alpha == 1 else ops.mul(other, alpha))

    def sub(self, other, alpha=1):
        return ops.sub(self, other if alpha == 1 else ops.mul(other, alpha))

    def mul(self, other):
        return ops.mul(self, other)

    def div(self, other):
        return ops.div(self, other)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def matmul(self, other):
        return ops.matmul(self, other)

    def eq(self, other):
        return ops.eq(self, other)

    def ne(self, other):
        return ops.ne(self, other)

    def lt(self, other):
        return ops.lt(self, other)

    def le(self, other):
        return ops.le(self, other)

    def gt(self, other):
        return ops.gt(self, other)

    def ge(self, other):
        return ops.ge(self, other)

    # ------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False):
        return ops.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.mean(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return ops.amin(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return ops.min(self, dim, keepdim)

    def var(self, dim=None, *, correction=None, unbiased=None, keepdim=False):
        return ops.var(self, dim, correction=correction, unbiased=unbiased, keepdim=keepdim)

    def std(self, dim=None, *, correction=None, unbiased=None, keepdim=False):
        return ops.std(self, dim, correction=correction, unbiased=unbiased, keepdim=keepdim)

    def logsumexp(self, dim, keepdim=False):
        return ops.logsumexp(self, dim, keepdim)

    def softmax(self, dim, dtype=None):
        return ops.softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return ops.log_softmax(self, dim, dtype)

    def argmax(self, dim=None, keepdim=False):
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return ops.argmin(self, dim, keepdim)

    def all(self):
        return ops.all(self)

    def any(self):
        return ops.any(self)

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape):
        return ops.reshape(self, _shape_args(shape))

    def view(self, *shape):
        return ops.view(self, _shape_args(shape))

    def view_as(self, other):
        return ops.view(self, other.shape)

    def transpose(self, dim0, dim1):
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return ops.permute(self, _shape_args(dims))

    @property
    def T(self):  # noqa: N802 - PyTorch's name
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):  # noqa: N802 - PyTorch's name
        return ops.transpose(self, -2, -1)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return ops.expand(self, _shape_args(sizes))

    def expand_as(self, other):
        return ops.expand(self, other.shape)

    def contiguous(self):
        return ops.contiguous(self)

    def split(self, split_size_or_sections, dim=0):
        return ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return ops.chunk(self, chunks, dim)

    # ------------------------------------------------------------ elementwise
    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return ops.clamp(self, min, max)

    clip = clamp

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    # ------------------------------------------------- more of PyTorch's API
    # Thin calls into ops, grouped as ops groups them (one family per ops file).
    def clone(self, *, memory_format=None):
        return ops.clone(self)

    def element_size(self):
        """Bytes per element."""
        return int(self.array.itemsize)

    def type(self, dtype=None, non_blocking=False):
        """Without an argument, PyTorch's legacy type name ("minitorch_cv.FloatTensor",
        "minitorch_cv.cuda.FloatTensor" on the GPU); with a dtype or such a name, the
        tensor converted to it."""
        if dtype is None:
            prefix = "minitorch_cv.cuda." if self.is_cuda else "minitorch_cv."
            return prefix + _LEGACY_TYPE_NAMES[self.dtype]
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            on_gpu = ".cuda." in dtype
            name = dtype.rsplit(".", 1)[-1]
            target = {v: k for k, v in _LEGACY_TYPE_NAMES.items()}.get(name)
            if target is None:
                raise ValueError(f"type: unknown tensor type {dtype!r}")
            return self.to(_device.GPU if on_gpu else _device.CPU, target)
        return self.to(dtype)

    def _new(self, make, shape, dtype, device, requires_grad, *args):
        """``make`` (a creation function) with this tensor's dtype and device by default."""
        return make(
            _shape_args(shape), *args, dtype=dtype or self.dtype, device=device or self.device,
            requires_grad=requires_grad,
        )

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import empty

        return self._new(empty, size, dtype, device, requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import zeros

        return self._new(zeros, size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import ones

        return self._new(ones, size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        from .creation import full

        return self._new(full, (size,), dtype, device, requires_grad, fill_value)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        """A new tensor holding a copy of ``data``, with this tensor's dtype and device
        unless given."""
        from . import creation

        return creation.tensor(
            data, dtype=dtype or self.dtype, device=device or self.device,
            requires_grad=requires_grad,
        )

    # indexing along a dim (ops/gather.py, ops/elementwise.py, ops/indexing.py)
    def gather(self, dim, index):
        return ops.gather(self, dim, index)

    def scatter(self, dim, index, src=None, value=None, reduce=None):
        return ops.scatter(self, dim, index, src, value, reduce)

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        return ops.scatter_(self, dim, index, src, value, reduce)

    def scatter_add(self, dim, index, src):
        return ops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return ops.scatter_add_(self, dim, index, src)

    def index_select(self, dim, index):
        return ops.index_select(self, dim, index)

    def masked_fill(self, mask, value):
        return ops.masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        return ops.masked_fill_(self, mask, value)

    def nonzero(self, *, as_tuple=False):
        return ops.nonzero(self, as_tuple=as_tuple)

    # ordering (ops/sort.py)
    def sort(self, dim=-1, descending=False, stable=False):
        return ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return ops.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's names
        return ops.topk(self, k, dim, largest, sorted)

    # rearranging (ops/rearrange.py, ops/shape.py)
    def flip(self, *dims):
        return ops.flip(self, _shape_args(dims))

    def roll(self, shifts, dims=None):
        return ops.roll(self, shifts, dims)

    def repeat(self, *sizes):
        return ops.repeat(self, *sizes)

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    def unbind(self, dim=0):
        return ops.unbind(self, dim)

    def t(self):
        return ops.t(self)

    # products, scans, norms, steps, activations
    def mm(self, mat2):
        return ops.mm(self, mat2)

    def bmm(self, mat2):
        return ops.bmm(self, mat2)

    def cumsum(self, dim, *, dtype=None):
        return ops.cumsum(self, dim, dtype=dtype)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return ops.norm(self, p, dim, keepdim, dtype)

    def floor(self):
        return ops.floor(self)

    def ceil(self):
        return ops.ceil(self)

    def round(self, *, decimals=0):
        return ops.round(self, decimals=decimals)

    def sign(self):
        return ops.sign(self)

    def relu_(self):
        return ops.relu_(self)

    # random draws (creation.py)
    def bernoulli(self, p=None, *, generator=None):
        from . import creation

        return creation.bernoulli(self, p, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        """Every element set to 1 with probability p (a number or a tensor), else 0."""
        from . import creation

        creation._bernoulli_probabilities("bernoulli_", self, p)
        draws = creation.bernoulli_draws(self, p.array if isinstance(p, Tensor) else p, generator)
        return ops.inplace.fill_with_draws_("bernoulli_", self, draws)


def is_tensor(obj):
    """Whether ``obj`` is a Tensor (PyTorch's ``torch.is_tensor``)."""
    return isinstance(obj, Tensor)


def numel(input):  # noqa: A002 - PyTorch's argument name
    """The number of elements of a tensor (PyTorch's ``torch.numel``)."""
    return input.numel()


_LEGACY_TYPE_NAMES = {
    dtypes.float16: "HalfTensor",
    dtypes.float32: "FloatTensor",
    dtypes.float64: "DoubleTensor",
    dtypes.int8: "CharTensor",
    dtypes.uint8: "ByteTensor",
    dtypes.int16: "ShortTensor",
    dtypes.int32: "IntTensor",
    dtypes.int64: "LongTensor",
    dtypes.bool_: "BoolTensor",
}


def _shape_args(args):
    """Accept both ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


class ToArguments:
    """What a ``to(...)`` call asks for: ``device`` and ``dtype`` (None: unchanged),
    ``non_blocking`` and ``copy``."""

    def __init__(self, device=None, dtype=None, non_blocking=False, copy=False):
        self.device = device
        self.dtype = dtype
        self.non_blocking = non_blocking
        self.copy = copy


def parse_to_arguments(name, args, kwargs):
    """Read PyTorch's ``to`` overloads (shared by ``Tensor.to`` and ``Module.to``):
    positional device / dtype / tensor, then the booleans non_blocking and copy;
    keywords device, dtype, non_blocking, copy, memory_format (accepted, no effect:
    arrays here have one layout)."""
    target = ToArguments()
    flags = []
    for arg in args:
        if isinstance(arg, bool):
            flags.append(arg)
        elif isinstance(arg, Tensor):
            target.device, target.dtype = arg.device, arg.array.dtype
        elif _device.is_device_name(arg):
            target.device = _device.normalize(arg)
        elif isinstance(arg, str):
            try:
                target.dtype = dtypes.resolve(arg)
            except TypeError:
                raise ValueError(
                    f"{name}: expected a device ('cpu', 'gpu', 'cuda'), a dtype or a "
                    f"tensor, got {arg!r}"
                ) from None
        else:
            target.dtype = dtypes.resolve(arg)
    if len(flags) > 2:
        raise TypeError(f"{name}: expected at most two booleans (non_blocking, copy), got {flags}")
    target.non_blocking = flags[0] if flags else False
    target.copy = flags[1] if len(flags) > 1 else False
    for key, value in kwargs.items():
        if key == "device":
            target.device = None if value is None else _device.normalize(value)
        elif key == "dtype":
            target.dtype = dtypes.resolve(value)
        elif key in ("non_blocking", "copy"):
            setattr(target, key, bool(value))
        elif key != "memory_format":
            raise TypeError(
                f"{name}: unexpected keyword argument {key!r} (expected device, dtype, "
                "non_blocking, copy or memory_format)"
            )
    return target


# Imported last: the ops create Tensors, so they import this module.
from . import ops  # noqa: E402
