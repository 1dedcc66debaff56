"""Helpers the benchmark scripts share."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import requests

# Prefect's telemetry writes race on its temporary server's SQLite database: noise in figures.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Its temporary server migrates a fresh database on a busy machine: give it time to start.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

TASKS = (
    "sync-trades",
    "claim-due-orders",
    "decide-reminders",
    "record-conversions",
    "claim-due-shipments",
    "track-shipments",
    "send-messages",
    "reconcile-unknown-sends",
    "list-shops",
)


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_sandbox(port: int, timeout: float = 300.0) -> str:
    """Wait until a sandbox process answers its health check; return its base URL."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/_sandbox/health", timeout=1).ok:
                return base
        except requests.RequestException:
            pass
        time.sleep(0.2)  # polling a process we started, not waiting for business time
    raise TimeoutError(f"sandbox on port {port} did not come up")


def bench_database(url: str = "") -> str:
    """Return the given database URL, or a fresh SQLite file in a temporary folder."""
    return url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='aftercare-bench-'))}/bench.db"


@contextmanager
def sandbox_process(
    orders_per_shop: int,
    anchor: datetime,
    *,
    stage_weights: dict[str, int] | None = None,
    faults: dict[str, dict[str, float]] | None = None,
) -> Iterator[str]:
    """Run the sandbox in its own process (its memory is not counted as ours); yield its URL."""
    port = free_port()
    command = [sys.executable, "-m", "bench.sandbox_server", "--port", str(port)]
    command += ["--orders-per-shop", str(orders_per_shop), "--anchor", anchor.isoformat()]
    if stage_weights:
        command += ["--stage-weights", json.dumps(stage_weights)]
    if faults:
        command += ["--faults", json.dumps(faults)]
    sandbox = subprocess.Popen(command)
    # The world's time is the sandbox's (dispatch judges quiet hours on it), whatever the hour.
    os.environ["AFTERCARE_SIMULATED_NOW"] = anchor.isoformat()
    try:
        yield wait_for_sandbox(port)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


def prefect_task_seconds(flow_run_id: UUID | None) -> dict[str, float]:
    """Sum the run time Prefect recorded for each task of a flow run, by task name."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    totals: dict[str, float] = {}
    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:  # the API returns at most 200 runs a page
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                limit=200,
                offset=len(runs),
            )
            runs.extend(page)
            if len(page) < 200:
                break
    for run in runs:
        name = next((t for t in TASKS if run.name.startswith(t)), run.name)
        totals[name] = totals.get(name, 0.0) + run.total_run_time.total_seconds()
    return totals


def prefect_task_window(flow_run_id: UUID | None, prefix: str) -> tuple[float, float]:
    """Return when the first task run named `prefix...` started and the last one ended."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                limit=200,
                offset=len(runs),
            )
            runs.extend(page)
            if len(page) < 200:
                break
    spans = [
        (r.start_time.timestamp(), r.end_time.timestamp())
        for r in runs
        if r.name.startswith(prefix) and r.start_time and r.end_time
    ]
    return min(s for s, _ in spans), max(e for _, e in spans)


def query_plan(database_url: str, query: Any) -> str:
    """Return the database's plan for a due-selection query (EXPLAIN), one line per step."""
    from models.db import get_engine

    engine = get_engine(database_url)
    compiled = query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"{prefix} {compiled}").all()
    return "\n  ".join(" ".join(map(str, row)) for row in rows)
