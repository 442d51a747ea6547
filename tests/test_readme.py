"""CI must prove the README: .ci/run runs exactly the README's install and test commands."""
import re

from tests.conftest import REPO_ROOT


def _commands_after(marker, text):
    match = re.search(rf"# --- README: {marker} ---\n(.+)\n", text)
    assert match, f"no '# --- README: {marker} ---' line in .ci/run"
    return match.group(1).strip()


def test_ci_runs_the_readme_commands():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    for marker in ("install", "test"):
        command = _commands_after(marker, ci)
        assert command in readme, f".ci/run's {marker} command {command!r} is not in README.md"
