"""The ``weights`` argument of torchvision's model constructors, which every
torchvision-named constructor here accepts (so that code written for torchvision runs
unchanged with ``weights=None``). No pretrained file ships with minitorch_cv."""


def no_pretrained_weights(weights):
    """Raise unless ``weights`` is None (a clear error instead of an untrained model)."""
    if weights is not None:
        raise ValueError(
            f"weights: pretrained weights are not bundled with minitorch_cv, got {weights!r}; "
            "expected None (build the model, then load_state_dict a converted checkpoint)"
        )
