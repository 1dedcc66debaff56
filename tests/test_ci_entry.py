"""The CI entry point and the repo's shell scripts are valid bash."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [ROOT / ".ci" / "run", *sorted(p for p in ROOT.rglob("*.sh") if ".venv" not in p.parts)]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_parses(script: Path) -> None:
    """`bash -n` accepts the script (a broken .ci/run fails CI after 0 s)."""
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends by running `make test`, the README's command."""
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip()]
    assert lines[-1] == "make test"
    assert "make test" in (ROOT / "README.md").read_text()
