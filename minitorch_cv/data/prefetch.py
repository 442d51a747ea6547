"""Prepare the next batches in a background thread while the model trains on this one.

    items = BackgroundIterator(source, depth=2)   # source: any iterator
    for item in items: ...                        # same items, same order

A daemon thread runs ``source`` and puts its items into a queue of at most ``depth``
items, so at most ``depth`` batches wait in memory. The main thread takes them out in
order. The work overlaps because NumPy's copies and arithmetic (the batch gather, the
transforms) release the GIL.

Ending, in every case:
  - ``source`` finishes: the thread puts an end marker and exits.
  - ``source`` raises: the thread puts the exception; the main thread raises it (with
    the worker's traceback and a note saying where it came from) and the iteration ends.
  - the consumer stops early (``break``, the iterator is dropped or garbage collected,
    or ``close()`` is called): a stop flag is set and the queue drained; the thread,
    which only ever waits on the queue with a short timeout, sees the flag and exits.
The thread never holds a reference to this object, so dropping it does trigger
``__del__``.
"""
import queue
import threading

_END = object()
_POLL_SECONDS = 0.05


class _Failure:
    def __init__(self, error):
        self.error = error


def _put(out, item, stop):
    """Put ``item`` into the queue unless asked to stop; True when it was put."""
    while not stop.is_set():
        try:
            out.put(item, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _work(source, out, stop):
    try:
        for item in source:
            if not _put(out, item, stop):
                return
        _put(out, _END, stop)
    except BaseException as error:  # handed to the main thread, which re-raises it
        _put(out, _Failure(error), stop)


class BackgroundIterator:
    def __init__(self, source, depth=2, name="minitorch_cv-prefetch"):
        if depth < 1:
            raise ValueError(f"depth: expected at least 1, got {depth}")
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self.thread = threading.Thread(
            target=_work, args=(iter(source), self._queue, self._stop), name=name, daemon=True
        )
        self.thread.start()

    def __iter__(self):
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        item = self._get()
        if item is _END:
            self._finish()
            raise StopIteration
        if isinstance(item, _Failure):
            self._finish()
            if hasattr(item.error, "add_note"):  # Python >= 3.11
                item.error.add_note("(raised in the DataLoader's background prefetch thread)")
            raise item.error
        return item

    def _get(self):
        while True:
            try:
                return self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not self.thread.is_alive() and self._queue.empty():
                    # Only possible after close(); never wait forever on a dead thread.
                    return _END

    def _finish(self):
        self._finished = True
        self.thread.join()

    def close(self):
        """Stop the thread and wait for it to exit (at most a fraction of a second after
        its current item is ready)."""
        self._finished = True
        self._stop.set()
        while True:  # drain, so a thread blocked on a full queue can notice the flag
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self.thread is not threading.current_thread():
            self.thread.join()

    def __del__(self):
        if getattr(self, "thread", None) is not None:
            self.close()
