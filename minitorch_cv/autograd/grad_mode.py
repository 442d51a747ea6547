"""Switching gradient recording on and off (``no_grad``, ``enable_grad``)."""
import contextlib
import functools
import threading

# Per thread, like PyTorch: a data-loader thread must not switch off recording in the
# training thread.
_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def set_grad_enabled(mode):
    _state.enabled = bool(mode)


class _GradMode(contextlib.ContextDecorator):
    """Base of no_grad/enable_grad: a context manager that is also a decorator."""

    mode = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Operations inside do not record a graph: ``with mt.no_grad(): ...``."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    mode = True


class inference_mode(_GradMode):  # noqa: N801 - PyTorch's name
    """``with mt.inference_mode():`` / ``@mt.inference_mode()`` / ``@mt.inference_mode``.

    PyTorch's inference mode is no_grad plus bookkeeping savings (no version counters,
    no view tracking) and "inference tensors" that refuse to enter autograd later. Here
    it is no_grad: the savings do not exist to be made, and tensors made inside are
    ordinary tensors that do not require grad. ``inference_mode(False)`` changes
    nothing, as in PyTorch (it does not switch gradients on).
    """

    def __new__(cls, mode=True):
        if callable(mode):  # used as a bare decorator: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.inference = bool(mode)

    def __enter__(self):
        self._previous = is_grad_enabled()
        self._previous_inference = is_inference_mode_enabled()
        if self.inference:
            set_grad_enabled(False)
            _state.inference = True
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._previous)
        _state.inference = self._previous_inference
        return False

    def __call__(self, fn):
        inference = self.inference

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(inference):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled():
    return getattr(_state, "inference", False)
