"""Database faults: a PostgreSQL server restarted in the middle of a run."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import select

from aftercare.settings import get_settings
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from models import AfterSalesCase, Shipment, TrackingEvent
from models.db import get_engine, session_scope
from sandbox import FaultConfig
from tests.chaos.test_database_faults import MESSAGES, outcome, settle, when
from tests.chaos.test_process_kills import unreviewed
from tests.conftest import ANCHOR
from tests.flows.test_dispatch_messages import queue_messages
from tests.support.postgres import create_database, find_bindir, throwaway_postgres

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def restartable_postgres() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL of this module's own (others' tests keep theirs), and how to restart it."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL tests skipped: no server binaries (initdb, pg_ctl) found")
    with throwaway_postgres() as admin_url:
        engine = sa.create_engine(admin_url)
        with engine.connect() as connection:
            data = Path(connection.execute(sa.text("SHOW data_directory")).scalar_one())
        engine.dispose()
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

        def restart() -> None:
            # pg_ctl restart reuses the options the server was started with (postmaster.opts).
            pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
            log = str(data.parent / "log")
            subprocess.run([*pg_ctl, "-l", log, "-m", "fast", "-w", "restart"], check=True)

        yield admin_url, restart


@pytest.fixture
def database_url(restartable_postgres) -> Iterator[str]:
    """A fresh database on the restartable server, its schema created by the migrations."""
    from models.migrate import upgrade

    admin_url, _ = restartable_postgres
    url = create_database(admin_url)
    upgrade(url)
    yield url
    get_engine(url).dispose()


@pytest.mark.postgres
def test_a_postgresql_restart_mid_run_fails_cleanly_or_retries_and_nothing_is_duplicated(
    settings, sandbox, restartable_postgres
):
    _, restart = restartable_postgres
    queue_messages(settings.database_url, MESSAGES)
    sandbox.faults.set("sms", FaultConfig(latency_ms=3))
    stale: list[object] = []  # pooled connections the restart cut, found and replaced
    event.listen(get_engine(settings.database_url).pool, "invalidate", lambda *a: stale.append(a))
    restarted: list[float] = []

    def restart_now() -> None:
        start = time.monotonic()
        restart()
        restarted.append(time.monotonic() - start)

    restarter = when(lambda: len(sandbox.sms_sent) >= 40, restart_now)

    state = dispatch_messages(as_of=ANCHOR, return_state=True)
    restarter.join(60)
    accepted_in_first_run = len(sandbox.sms_sent)
    reruns, runs = settle(settings.database_url, sandbox)
    duplicates, lost, statuses = outcome(settings.database_url, sandbox)
    print(
        f"\npostgresql restarted mid-run (down {restarted[0]:.1f} s): {MESSAGES} messages, first "
        f"run {state.type.value} ({(state.message or '')[:80]}) with {accepted_in_first_run} "
        f"accepted, {len(stale)} stale connections replaced; {runs} re-runs {dict(reruns)}, "
        f"duplicates {len(duplicates)}, lost {len(lost)}"
    )
    assert restarted, "the server was restarted"
    assert state.is_completed() or state.is_failed(), state
    assert not duplicates and not lost and statuses == {"sent": MESSAGES}


@pytest.mark.postgres
def test_logistics_check_through_a_postgresql_restart_leaves_nothing_half_done(
    settings, sandbox, restartable_postgres, monkeypatch
):
    _, restart = restartable_postgres
    for name, value in {"CHUNK_SIZE": "6", "MAX_CONCURRENT_CHUNKS": "2"}.items():
        monkeypatch.setenv(f"AFTERCARE_LOGISTICS__{name}", value)
    get_settings.cache_clear()
    sandbox.faults.set("kuaidi100", FaultConfig(latency_ms=10))
    restarted: list[float] = []

    def restart_now() -> None:
        start = time.monotonic()
        restart()
        restarted.append(time.monotonic() - start)

    restarter = when(lambda: sum(sandbox.stats.kuaidi100_queries.values()) >= 30, restart_now)
    state = logistics_check(as_of=ANCHOR, return_state=True)
    restarter.join(60)

    later = ANCHOR + timedelta(minutes=31)  # past the claim lease and the 30-minute query rule
    sandbox.faults.clear()
    sandbox.clock.set(later)
    rerun = logistics_check(as_of=later)
    with session_scope(settings.database_url) as session:
        shipments = session.exec(select(Shipment)).all()
        events = session.exec(select(TrackingEvent)).all()
        cases = session.exec(select(AfterSalesCase)).all()
    never_checked = [s.waybill for s in shipments if not (s.last_checked_at or s.check_error)]
    still_claimed = [s.waybill for s in shipments if s.claimed_by]
    duplicates = len(events) - len({(e.shipment_id, e.occurred_at, e.context) for e in events})
    duplicates += len(cases) - len({(c.shipment_id, c.kind) for c in cases})
    half_done = unreviewed(settings.database_url, settings.logistics)
    print(
        f"\npostgresql restarted during logistics-check (down {restarted[0]:.1f} s): "
        f"{len(shipments)} parcels, first run {state.type.value} "
        f"({(state.message or '')[:80]}); re-run checked {rerun.get('checked', 0)} of "
        f"{rerun['shipments_due']} due; duplicates {duplicates}, never checked "
        f"{len(never_checked)}, still claimed {len(still_claimed)}, checked but not reviewed "
        f"{len(half_done)}"
    )
    assert restarted and (state.is_completed() or state.is_failed()), state
    assert not never_checked and not still_claimed and not half_done
    assert duplicates == 0
