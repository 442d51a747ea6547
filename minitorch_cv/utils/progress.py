"""A tqdm-like progress bar for training loops, written for this project.

    bar = ProgressBar(total=len(loader), desc="epoch 3/15", unit="img")
    for images, labels in loader:
        ...
        bar.update(items=len(labels), postfix=lambda: {"loss": f"{loss:.3f}"})
    bar.close()

On a terminal (``stream.isatty()``) the bar is redrawn in place with ``\\r`` at most every
``interval`` seconds:

    epoch 3/15  43% |########          | 16/37 [00:12<00:16, 412.7 img/s] loss 1.234 acc 55.2%

When the stream is not a terminal (a log file, a pipe, CI), carriage returns would
pile up, so it prints a full line only when another tenth of the work is done (and at
the end): at most ~11 lines per bar.

``postfix`` is a function, called only when something is drawn: computing a training
loop's loss and accuracy means reading them from the device (a synchronization on the
GPU), and a lazy postfix does that a few times per second at most, not every batch.
The rate and the ETA come from the average over the whole bar so far.
"""
import sys
import time


def format_duration(seconds):
    """``MM:SS``, or ``H:MM:SS`` from one hour on (as tqdm)."""
    seconds = int(max(seconds, 0) + 0.5)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ProgressBar:
    """Progress over ``total`` steps (batches); see the module docstring.

    desc: text in front; unit: the name of ``items`` in the rate ("img" -> "img/s");
    stream: where to draw (stderr by default); dynamic: redraw in place (default: when
    the stream is a terminal); interval: seconds between redraws in place; width: the
    bar's characters; initial: steps already done (a resumed epoch), counted in the
    position but not in the rate.
    """

    def __init__(self, total, desc="", unit="it", stream=None, dynamic=None, interval=0.5,
                 width=20, initial=0):
        if not isinstance(total, int) or total < 0:
            raise ValueError(f"total: expected a non-negative int, got {total!r}")
        self.total = total
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.dynamic = _is_terminal(self.stream) if dynamic is None else bool(dynamic)
        self.interval = interval
        self.width = width
        self.n = initial
        self.initial = initial
        self.items = 0
        self.start = time.perf_counter()
        self._last_draw = float("-inf")
        self._last_tenth = self._tenth(initial)
        self._last_length = 0
        self._drawn_n = None  # the position of the last line printed
        self._postfix = None
        self.closed = False

    def _tenth(self, n):
        return (10 * n) // self.total if self.total else 10

    def update(self, steps=1, items=0, postfix=None):
        """Advance by ``steps`` (batches) and ``items`` (images); ``postfix``: a function
        returning a dict (or a string) to show after the bar, called only on a draw."""
        self.n += steps
        self.items += items
        if postfix is not None:
            self._postfix = postfix
        now = time.perf_counter()
        if self.dynamic:
            due = now - self._last_draw >= self.interval
        else:
            tenth = self._tenth(self.n)
            due = tenth > self._last_tenth
            if due:
                self._last_tenth = tenth
        if due and self.n < self.total:
            self._draw(now)

    def close(self):
        """Draw the final state (once; not again when the last line already shows it)
        and end the line."""
        if self.closed:
            return
        self.closed = True
        if self.dynamic or self._drawn_n != self.n:
            self._draw(time.perf_counter())
        if self.dynamic:
            self.stream.write("\n")
            self.stream.flush()

    def text(self, now=None):
        """The line as it would be drawn now."""
        now = time.perf_counter() if now is None else now
        elapsed = now - self.start
        done_here = self.n - self.initial
        fraction = self.n / self.total if self.total else 1.0
        filled = int(fraction * self.width)
        bar = "#" * filled + " " * (self.width - filled)
        if done_here > 0 and self.n < self.total:
            eta = format_duration(elapsed / done_here * (self.total - self.n))
        else:
            eta = "?" if self.n < self.total else format_duration(0)
        if self.items:
            rate = f"{self.items / max(elapsed, 1e-9):.1f} {self.unit}/s"
        else:
            rate = f"{done_here / max(elapsed, 1e-9):.2f} it/s"
        width = len(str(self.total))
        line = (f"{self.desc} {fraction * 100:3.0f}% |{bar}| {self.n:{width}d}/{self.total} "
                f"[{format_duration(elapsed)}<{eta}, {rate}]")
        if self._postfix is not None:
            postfix = self._postfix()
            if isinstance(postfix, dict):
                postfix = " ".join(f"{key} {value}" for key, value in postfix.items())
            line += f" {postfix}"
        return line.lstrip()

    def _draw(self, now):
        self._last_draw = now
        self._drawn_n = self.n
        line = self.text(now)
        if self.dynamic:
            # Pad so that a shorter line fully covers the previous one.
            self.stream.write("\r" + line.ljust(self._last_length))
            self._last_length = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False
