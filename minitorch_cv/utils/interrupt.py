"""Stop a training loop cleanly on Ctrl-C.

    with StopOnInterrupt() as stop:
        for batch in loader:
            step(batch)
            if stop.requested:     # checked between steps: the state is consistent
                save_checkpoint()
                break

Python turns Ctrl-C (SIGINT) into a ``KeyboardInterrupt`` raised wherever the program
happens to be, possibly halfway through ``optimizer.step()`` with some parameters
updated and others not: a checkpoint saved then would be inconsistent. Inside the
block the first Ctrl-C only sets ``requested``, so the loop finishes the current step,
saves and leaves. A second Ctrl-C raises ``KeyboardInterrupt`` at once, for a user who
does not want to wait. Outside the main thread (where Python does not allow signal
handlers) the block changes nothing.
"""
import signal
import sys
import threading


class StopOnInterrupt:
    def __init__(self, message="stopping after the current step (Ctrl-C again to abort now)"):
        self.message = message
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.message:
            sys.stderr.write(f"\n{self.message}\n")
            sys.stderr.flush()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def __call__(self):
        """``stop()`` is ``stop.requested``, so the object can be passed as a callback."""
        return self.requested
