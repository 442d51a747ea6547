"""The differential fuzz of the public functional API (functional_fuzz.py), in a process
of its own: a documented exception or the same result from every kernel implementation,
never a crash. A crash (a segfault in a kernel) kills only that process; the test then
fails with the call that was running, read from the log the fuzz writes before each call.

Bounded for CI: EXAMPLES calls per function (20 functions, 3 implementations each; some
10 s). HYPOTHESIS_PROFILE=deep runs FUZZ_DEEP_EXAMPLES per function instead.
"""
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

EXAMPLES = 30
FUZZ_DEEP_EXAMPLES = 600


def test_functional_api_never_crashes_and_the_implementations_agree(tmp_path):
    examples = FUZZ_DEEP_EXAMPLES if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else EXAMPLES
    log = tmp_path / "calls.log"
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONPATH=path, OPENBLAS_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-m", "tests.robustness.functional_fuzz", str(log), str(examples)],
        capture_output=True, text=True, timeout=900, env=env, cwd=REPO_ROOT,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    if result.returncode < 0:
        raise AssertionError(
            f"the fuzz process died of signal {-result.returncode} during the call\n    {calls[-1] if calls else '?'}\n"
            f"{result.stderr[-3000:]}"
        )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert calls[-1] == "done"
    assert len(calls) > 3 * 20 * EXAMPLES // 2  # the calls really ran
