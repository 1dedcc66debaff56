"""Run one pipeline in this process, so a chaos test can kill it: python -m tests.chaos.run_flow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    """Run the named flow as of the given time; the settings come from the environment."""
    name, as_of = sys.argv[1], datetime.fromisoformat(sys.argv[2])
    if name == "dispatch-messages":
        from flows.dispatch_messages import dispatch_messages

        print(dispatch_messages(as_of=as_of), flush=True)
    elif name == "logistics-check":
        from flows.logistics_check import logistics_check

        print(logistics_check(as_of=as_of), flush=True)
    else:
        raise SystemExit(f"unknown flow {name}")


def start(name: str, as_of: datetime, log: Path) -> subprocess.Popen[bytes]:
    """Start a flow in a child process that talks to the test's Prefect server and database."""
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,  # the test's AFTERCARE_* settings: database, sandbox URLs, fast retries
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_HOME": tempfile.mkdtemp(prefix="aftercare-chaos-"),
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.run_flow", name, as_of.isoformat()],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill_when(
    process: subprocess.Popen[bytes], ready: Callable[[], bool], log: Path, timeout: float = 120
) -> None:
    """SIGKILL the process as soon as `ready()` holds; fail if it ends or times out first."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"the flow ended before the kill:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"the kill point never came:\n{log.read_text()[-3000:]}")
        time.sleep(0.005)  # watching a real process we started, not business time
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


if __name__ == "__main__":
    main()
