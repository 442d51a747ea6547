"""Keep freed memory for the next array instead of handing it back to the operating system.

A training step allocates and frees the same large arrays again and again: every layer's
output, its gradient, the columns of every convolution chunk. With glibc's default
malloc settings, an array above a threshold (128 KiB at first, raised towards 32 MiB as
such arrays are freed) is mapped fresh from the operating system and unmapped when it is
freed, and free memory at the top of the heap beyond a second threshold is given back
too. Each fresh page then costs a page fault and the kernel zeroing it the first time it
is written: on our 2-core machine a ResNet-20 step at batch 128 took about 13,000 page
faults (50 MiB of fresh pages, 20-50 ms of system time) every step. PyTorch's CPU tuning
guides give the same advice for the same reason (preload jemalloc or tcmalloc).

``keep_freed_memory()``, called when minitorch_cv is imported, raises both of glibc's
thresholds to ``KEPT_BYTES`` (256 MiB) with ``mallopt``: arrays up to that size come from
the heap and go back to it, and up to that much free memory stays at the heap's top for
the next step. The step then takes no page fault at all (measured: 3-9 per step). What it
costs: the process keeps its peak resident memory instead of shrinking after it (the
peak itself does not grow: 367 MiB for that step either way), and arrays larger than
``KEPT_BYTES`` are still mapped and unmapped as before.

It does nothing where the C library is not glibc, or when the user tuned malloc already
(the MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ environment variables, or malloc
tunables in GLIBC_TUNABLES): their settings win.
"""
import ctypes
import os
import platform

KEPT_BYTES = 256 * 2**20
# mallopt's parameter numbers, from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds to KEPT_BYTES (see the module docstring);
    returns True when they were set."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if any(name in os.environ for name in _USER_SETTINGS) or "glibc.malloc" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; setting the mmap threshold also stops glibc from
    # moving it by itself.
    return bool(mallopt(M_MMAP_THRESHOLD, KEPT_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, KEPT_BYTES))
