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
