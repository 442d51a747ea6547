"""The model registry: build any architecture by name, as ``torchvision.models`` does.

    from minitorch_cv import models
    models.list_models()                      # ['preact_resnet18', 'resnet110', ...]
    model = models.get_model("resnet20", num_classes=10)

A constructor registers itself with the ``@register_model`` decorator (its function name
is the model name). ``get_model`` of an unknown name raises a ``ValueError`` that lists
the known names, so a typo in ``--arch`` says what would have worked.
"""
import fnmatch
import os

_MODELS = {}


def register_model(fn=None, *, name=None):
    """Decorator: make ``fn`` buildable as ``get_model(name or fn.__name__, ...)``."""

    def register(constructor):
        key = name or constructor.__name__
        if key in _MODELS:
            raise ValueError(f"name: a model called {key!r} is already registered")
        _MODELS[key] = constructor
        return constructor

    return register(fn) if fn is not None else register


def list_models(module=None, include=None):
    """Sorted names of the registered models; as torchvision's ``list_models``, ``module``
    keeps those defined in a (sub)package (``list_models(models.segmentation)``) and
    ``include`` filters with a shell-style pattern ("resnet*")."""
    names = sorted(_MODELS)
    if module is not None:
        prefix = module.__name__
        names = [name for name in names
                 if (_MODELS[name].__module__ + ".").startswith(prefix + ".")]
    if include is not None:
        names = [name for name in names if fnmatch.fnmatch(name, include)]
    return names


def get_model_builder(name):
    """The constructor registered as ``name``."""
    if not isinstance(name, str) or name not in _MODELS:
        raise ValueError(f"name: unknown model {name!r}; known models: {', '.join(list_models())}")
    return _MODELS[name]


def get_model(name, weights=None, **kwargs):
    """Build the model registered as ``name`` with the constructor's keyword arguments.

    weights: None (the architecture's own initialization), or weights to load into it: a
    file that ``mt.load`` reads (a PyTorch checkpoint such as torchvision's
    ``resnet18-f37072fd.pth``, a ``.safetensors`` file, or this project's checkpoints)
    or a state_dict. A file holding a training checkpoint (a dict with a "model" or
    "state_dict" entry, as the example scripts and torchvision's reference scripts
    write) gives that entry. The keys must be the model's (torchvision's names for
    torchvision's architectures); pass ``num_classes`` when the file's classifier is not
    the default one. Tensors are loaded on the CPU.
    """
    builder = get_model_builder(name)
    if weights is None:
        return builder(**kwargs)
    state = _state_dict_of(weights)
    model = builder(**kwargs)
    model.load_state_dict(state)
    return model


def _state_dict_of(weights):
    from ..serialization import load

    if isinstance(weights, dict):
        return weights
    if isinstance(weights, str) and not os.path.exists(weights) and os.sep not in weights \
            and "." not in weights:
        raise ValueError(
            f"weights: {weights!r} names torchvision's pretrained weights, which minitorch_cv "
            "does not download; download the .pth file (README: 'Weights from PyTorch') and "
            "pass its path"
        )
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"weights: expected a path or a state_dict, got {type(weights).__name__}")
    loaded = load(weights, map_location="cpu")
    if isinstance(loaded, dict):
        for entry in ("model", "state_dict"):
            if isinstance(loaded.get(entry), dict):
                return loaded[entry]
        return loaded
    raise ValueError(f"weights: {os.fspath(weights)} holds a {type(loaded).__name__}, not a state_dict")


# ------------------------------------------------- torchvision's builder arguments
def check_no_weights(weights):
    """torchvision's builders take ``weights`` (pretrained weights to download); this
    project ships none. ``None`` is accepted so that torchvision calls work unchanged;
    load a weights file with ``get_model(name, weights=path)`` instead."""
    if weights is not None:
        raise ValueError(
            f"weights: pretrained weights are not distributed with minitorch_cv, got {weights!r}; "
            "load a file (a torchvision .pth, a .safetensors) with "
            "models.get_model(name, weights=path)"
        )


def set_named_arguments(kwargs, **values):
    """Put ``values`` into a builder's ``kwargs`` (torchvision's _ovewrite_named_param):
    a caller may repeat a value the architecture fixes, but not contradict it."""
    for name, value in values.items():
        if name in kwargs and kwargs[name] != value:
            raise ValueError(f"The parameter '{name}' expected value {value} but got {kwargs[name]} instead.")
        kwargs[name] = value
