"""The model registry: build any architecture by name, as ``torchvision.models`` does.

    from minitorch_cv import models
    models.list_models()                      # ['preact_resnet18', 'resnet110', ...]
    model = models.get_model("resnet20", num_classes=10)

A constructor registers itself with the ``@register_model`` decorator (its function name
is the model name). ``get_model`` of an unknown name raises a ``ValueError`` that lists
the known names, so a typo in ``--arch`` says what would have worked.
"""
import fnmatch

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


def get_model(name, **kwargs):
    """Build the model registered as ``name`` with the constructor's keyword arguments."""
    return get_model_builder(name)(**kwargs)


# ------------------------------------------------- torchvision's builder arguments
def check_no_weights(weights):
    """torchvision's builders take ``weights`` (pretrained weights to download); this
    project ships none. ``None`` is accepted so that torchvision calls work unchanged;
    load a converted state_dict with ``model.load_state_dict`` instead."""
    if weights is not None:
        raise ValueError(
            f"weights: pretrained weights are not distributed with minitorch_cv, got {weights!r}; "
            "build with weights=None and load a state_dict (benchmarks/check_torchvision.py "
            "shows how to convert torchvision's)"
        )


def set_named_arguments(kwargs, **values):
    """Put ``values`` into a builder's ``kwargs`` (torchvision's _ovewrite_named_param):
    a caller may repeat a value the architecture fixes, but not contradict it."""
    for name, value in values.items():
        if name in kwargs and kwargs[name] != value:
            raise ValueError(f"The parameter '{name}' expected value {value} but got {kwargs[name]} instead.")
        kwargs[name] = value
