"""``Optimizer``: the base class of SGD, Adam and AdamW, with PyTorch's structure.

- ``param_groups``: a list of dicts, each with its own ``params`` list and options
  (``lr``, ``momentum``, ...). Options missing from a group come from ``defaults``.
  Schedulers change ``group["lr"]`` between steps.
- ``state``: a dict from each parameter to its own dict of buffers (momentum, Adam's
  moments), created lazily at the first step that sees a gradient.
- ``state_dict()`` / ``load_state_dict()``: PyTorch's layout, where parameters are
  replaced by their position in the groups (0, 1, ... across all groups in order), so
  a checkpoint can be loaded into a fresh optimizer built over a fresh model::

      {"state": {0: {"momentum_buffer": tensor}, ...},
       "param_groups": [{"lr": 0.1, ..., "params": [0, 1, 2]}, ...]}

Subclasses implement ``step()`` with array operations on the parameters' device (NumPy
on "cpu", CuPy on "gpu"), in place, outside the autograd graph.
"""
import copy
from collections import defaultdict

from .. import devices as _device
from .. import dtypes
from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors "
                f"or dicts, but got {type(params).__name__}"
            )
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group (a dict with "params" and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params) if params is not None else []
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Drop (default) or zero the gradient of every parameter in every group."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array[...] = 0

    def step(self, closure=None):
        raise NotImplementedError(f"{type(self).__name__} must implement step()")

    def _evaluate(self, closure):
        """Run the closure (which recomputes the loss and its gradients) with grad on."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------ state dicts
    def state_dict(self):
        """The state with parameters replaced by their index (see module docstring).
        The tensors in it are the optimizer's own (not copies), as in PyTorch."""
        index_of = {}
        packed_groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            packed_groups.append(packed)
        packed_state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    packed_state[index_of[id(p)]] = dict(self.state[p])
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``: group options and per-parameter state. The saved
        tensors are copied onto each parameter's device (floating ones in its dtype,
        except Adam's "step" counter, which stays as saved)."""
        if "param_groups" not in state_dict or "state" not in state_dict:
            raise ValueError(
                "optimizer state_dict must have 'state' and 'param_groups' entries, "
                f"got keys {list(state_dict)}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)} saved, {len(self.param_groups)} in this optimizer)"
            )
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the "
                    f"size of optimizer's group: group {index} has {len(saved['params'])} "
                    f"saved parameters and {len(group['params'])} here"
                )
        param_of = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for index, p in zip(saved["params"], group["params"]):
                param_of[index] = p

        state = defaultdict(dict)
        for index, saved_state in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(f"optimizer state_dict has state for unknown parameter index {index}")
            p = param_of[index]
            state[p] = {key: _cast_state(p, key, value) for key, value in saved_state.items()}
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = copy.deepcopy({k: v for k, v in saved.items() if k != "params"})
            new_group["params"] = group["params"]
            groups.append(new_group)
        self.state = state
        self.param_groups = groups

    def __repr__(self):
        text = type(self).__name__ + " ("
        for index, group in enumerate(self.param_groups):
            text += f"\nParameter Group {index}"
            for key in sorted(k for k in group if k != "params"):
                text += f"\n    {key}: {group[key]}"
        return text + "\n)"


def _cast_state(param, key, value):
    """A private copy of a saved state value, placed like PyTorch places it."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    array = value.array
    if key != "step":
        if dtypes.is_floating(array.dtype):
            array = array.astype(param.dtype, copy=False)
        array = _device.to_device(array, param.device)
    xp = _device.namespace(array)
    return Tensor._wrap(xp.array(array, copy=True))
