"""Scale-out on Prefect's own machinery: a process work pool, two workers, one backlog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL
from sqlmodel import select

from aftercare.wording import figure_name
from flows.dispatch_messages import dispatch_messages
from models import OutboxMessage
from models.db import session_scope
from sandbox import FaultConfig
from tests.conftest import ANCHOR
from tests.flows.test_dispatch_messages import queue_messages

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 5000
pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def test_two_workers_share_one_backlog_and_send_each_message_once(settings, sandbox):
    queue_messages(settings.database_url, MESSAGES)
    sandbox.faults.set("sms", FaultConfig(latency_ms=3))
    pool = "aftercare-scaleout-test"
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"), overwrite=True)
    deployment_id = dispatch_messages.from_source(
        source=str(ROOT), entrypoint="flows/dispatch_messages.py:dispatch_messages"
    ).deploy(name="scaleout", work_pool_name=pool, build=False, push=False, print_next_steps=False)

    env = {
        **os.environ,  # the test's AFTERCARE_* settings: the PostgreSQL URL, the sandbox URLs
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_HOME": tempfile.mkdtemp(prefix="aftercare-worker-"),
        "AFTERCARE_DISPATCH__BATCH_SIZE": "100",
    }
    workers = [
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "prefect"),
                "worker",
                "start",
                "--pool",
                pool,
                "--limit",
                "1",
                "--name",
                f"worker-{n}",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in (1, 2)
    ]
    try:
        runs = [
            run_deployment(
                deployment_id,
                parameters={"as_of": ANCHOR.isoformat()},
                timeout=0,
            )
            for _ in range(2)
        ]
        finished = _wait_for([r.id for r in runs], timeout=300)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    assert all(run.state_type.value == "COMPLETED" for run in finished), [
        (r.name, r.state_name) for r in finished
    ]
    per_key = Counter(sms.out_id for sms in sandbox.sms_sent)
    assert len(per_key) == MESSAGES and set(per_key.values()) == {1}, "each message sent once"
    with session_scope(settings.database_url) as session:
        statuses = Counter(m.status for m in session.exec(select(OutboxMessage)))
    assert statuses == {"sent": MESSAGES}

    # Both runs (one per worker, each worker taking one run at a time) sent part of the backlog.
    with get_client(sync_client=True) as client:
        # By run: the session's many earlier dispatch runs would push these past a page.
        summaries = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["dispatch-messages-summary"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[r.id for r in finished]),
            )
        )
    sent = {
        a.flow_run_id: _figure(a.data, "sent")
        for a in summaries
        if a.flow_run_id in {r.id for r in finished}
    }
    print(
        f"\nscale-out: {MESSAGES} messages, sent per run {list(sent.values())}, "
        f"workers' processes {[r.infrastructure_pid for r in finished]}"
    )
    assert len(sent) == 2 and all(n > 0 for n in sent.values()) and sum(sent.values()) == MESSAGES
    assert len({r.infrastructure_pid for r in finished}) == 2


def _figure(table, name):
    """One figure from a summary table artifact (the server returns it as JSON text)."""
    rows = json.loads(table) if isinstance(table, str) else table
    return next(int(row["数量"]) for row in rows if row["项目"] == figure_name(name))


def _wait_for(ids, timeout):
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state and r.state.is_final() for r in runs):
                return runs
            time.sleep(1)  # polling real processes we started, not business time
    raise TimeoutError(f"flow runs not finished: {[(r.name, r.state_name) for r in runs]}")
