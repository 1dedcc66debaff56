"""A newcomer's first steps: `make demo`, then the commands its footer prints, on one data home."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from app.demo import NEXT_COMMANDS

BIN = Path(sys.executable).parent


def aftercare(args: list[str], data: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the aftercare command as a newcomer would: no settings but the data folder."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AFTERCARE_", "PREFECT_")) or k == "PREFECT_SERVER_ANALYTICS_ENABLED"
    }
    env["AFTERCARE_DATA_DIR"] = str(data)
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    return subprocess.run(
        [str(BIN / "aftercare"), *args],
        env=env,
        cwd=data.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_command_on_a_database_without_schema_says_what_to_run(tmp_path):
    done = aftercare(["followup", "calls"], tmp_path / "var")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines() == [
        "aftercare: the database has no schema yet: run `aftercare db upgrade`"
    ]


@pytest.mark.prefect
def test_the_demo_footer_commands_work_as_printed(tmp_path):
    data = tmp_path / "var"
    demo = aftercare(["demo", "--orders-per-shop", "12"], data, timeout=600)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    assert (data / "aftercare.db").exists() and (data / "prefect").is_dir()
    for _, command in NEXT_COMMANDS:
        assert command in demo.stdout
        args = shlex.split(command)[1:]
        done = aftercare(args, data)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (command, done.stderr)
    calls = aftercare(["followup", "calls"], data)
    assert "中差评" in calls.stdout

    # A second demo starts over on the same home; a home holding a real shop is left alone.
    again = aftercare(["shops", "add", "realshop", "真实的店", "--sms-sign-name", "真实"], data)
    assert again.returncode == 0, again.stderr
    refused = aftercare(["demo", "--orders-per-shop", "12"], data)
    assert refused.returncode == 1 and "realshop" in refused.stderr
    assert "Traceback" not in refused.stderr
