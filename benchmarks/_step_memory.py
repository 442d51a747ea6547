"""Peak resident memory of one call, for bench_resnet_step.py and its PyTorch worker.

Linux keeps a high-water mark of the resident set, VmHWM in /proc/self/status; writing
"5" to /proc/self/clear_refs resets it to the current resident set (Linux >= 4.0). So
resetting it just before a training step and reading it just after gives the peak of
that step, not of the whole process's life (which ru_maxrss would give). Elsewhere the
figures are None.
"""


def _status_kilobytes(field):
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def step_peak_rss(step):
    """{"before": resident kB before ``step()``, "peak": its high-water mark during it}."""
    before = _status_kilobytes("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        step()
        return {"before": before, "peak": None}
    step()
    return {"before": before, "peak": _status_kilobytes("VmHWM")}
