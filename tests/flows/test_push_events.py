"""Courier pushes stored by the receiver ask Prefect for a parcel-pushes run at once."""

from __future__ import annotations

import threading
import time

import pytest

from deployments.push_events import Coalesced, emit_pushes_stored
from tests.test_receiver import PARAM, push

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE
def test_each_commit_of_new_pushes_is_announced_and_a_repeat_is_not(settings):
    from aftercare.receiver.background import start_receiver

    heard: list[int] = []
    running = start_receiver(on_pushes_stored=heard.append)
    try:
        assert push(running.url, PARAM).ok
        assert push(running.url, PARAM).ok  # Kuaidi100 retrying: stored once, not announced
        other = PARAM.replace("YT9001", "YT9002")
        assert push(running.url, other).ok
    finally:
        running.stop()
    # Each answer came after its commit, and the announcement right after that commit.
    assert heard == [1, 1]


def test_a_burst_is_announced_once_per_window_and_none_is_left_out():
    emitted: list[int] = []
    done = threading.Event()

    def emit(new: int) -> None:
        emitted.append(new)
        if sum(emitted) == 10:
            done.set()

    announce = Coalesced(emit, seconds=0.5)
    for _ in range(10):
        announce(1)
    assert done.wait(10), f"only {sum(emitted)} of 10 announced"
    # The first at once, the rest of the burst added up at the end of the window.
    assert sum(emitted) == 10 and len(emitted) <= 2


@SQLITE
@pytest.mark.usefixtures("prefect_server")
def test_stored_pushes_start_a_parcel_pushes_run_through_the_automation(settings):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from deployments.setup import PUSHES_ARRIVED, ensure_automations
    from flows.parcel_pushes import parcel_pushes
    from flows.staff_alert import staff_alert

    pushes = parcel_pushes.to_deployment(name="every-minute").apply()
    alerts = staff_alert.to_deployment(name="manual").apply()
    assert PUSHES_ARRIVED in ensure_automations(alerts, {}, None, pushes)
    deadline = time.monotonic() + 60
    runs: list = []
    while not runs and time.monotonic() < deadline:
        # The server loads a new automation within seconds; the receiver emits per commit.
        emit_pushes_stored(1)
        time.sleep(2)  # waiting for the Prefect server's automation, not for business time
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[pushes]))
            )
    assert runs, "the automation did not start parcel-pushes"
