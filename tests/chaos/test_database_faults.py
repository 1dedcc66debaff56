"""Database faults: SQLite's write lock held by another writer, PostgreSQL restarted mid-run."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from aftercare.settings import get_settings
from flows.dispatch_messages import dispatch_messages
from models import OutboxMessage
from models.db import session_scope
from sandbox import FaultConfig
from tests.conftest import ANCHOR
from tests.flows.test_dispatch_messages import queue_messages

pytestmark = pytest.mark.usefixtures("prefect_server")
MESSAGES = 200


def when(ready: Callable[[], bool], then: Callable[[], None]) -> threading.Thread:
    """Run `then` in a thread as soon as `ready()` holds (or give up after two minutes)."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.005)  # watching the sandbox fill up, not waiting for business time
        then()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def settle(url: str, sandbox) -> tuple[Counter[str], int]:
    """Re-run after the lease until nothing is open; return the re-runs' figures and count."""
    now, totals, runs = ANCHOR, Counter[str](), 0
    for _ in range(5):
        with session_scope(url) as session:
            open_rows = session.exec(
                select(OutboxMessage.id).where(
                    OutboxMessage.status.in_(("pending", "sending"))  # type: ignore[attr-defined]
                )
            ).all()
        if not open_rows:
            break
        now += timedelta(minutes=get_settings().dispatch.lease_minutes + 1)
        sandbox.clock.set(now)
        totals.update(dispatch_messages(as_of=now))
        runs += 1
    return totals, runs


def outcome(url: str, sandbox) -> tuple[dict[str, int], list[str], Counter[str]]:
    """Return messages sent more than once, messages lost, and the outbox by status."""
    per_key = Counter(sms.out_id for sms in sandbox.sms_sent)
    with session_scope(url) as session:
        rows = session.exec(select(OutboxMessage)).all()
    duplicates = {k: n for k, n in per_key.items() if n > 1}
    lost = [
        m.idempotency_key
        for m in rows
        if m.idempotency_key not in per_key and not (m.status == "failed" and m.reason)
    ]
    return duplicates, lost, Counter(m.status for m in rows)


class WriteLock:
    """Another writer: a plain sqlite3 connection holding BEGIN IMMEDIATE until released."""

    def __init__(self, url: str) -> None:
        self.path = make_url(url).database or ""
        self.taken = self.released = 0.0
        self._release = threading.Event()

    def hold(self) -> None:
        """Take the write lock and keep it until release() (in the calling thread)."""
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        self.taken = time.monotonic()
        self._release.wait(120)
        connection.execute("ROLLBACK")
        connection.close()
        self.released = time.monotonic()

    def release(self) -> None:
        """Let the holder go."""
        self._release.set()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_run_waits_for_a_writer_holding_the_sqlite_lock(settings, sandbox):
    queue_messages(settings.database_url, MESSAGES)
    sandbox.faults.set("sms", FaultConfig(latency_ms=5))
    lock = WriteLock(settings.database_url)
    holder = when(lambda: len(sandbox.sms_sent) >= 20, lock.hold)
    # The writer lets go after 1.5 s: well within the 30 s every connection waits for the lock.
    when(lambda: lock.taken > 0 and time.monotonic() > lock.taken + 1.5, lock.release)

    result = dispatch_messages(as_of=ANCHOR)
    holder.join(10)
    duplicates, lost, statuses = outcome(settings.database_url, sandbox)
    print(
        f"\nsqlite lock held {lock.released - lock.taken:.1f} s mid-run: {MESSAGES} messages, "
        f"run {result}, duplicates {len(duplicates)}, lost {len(lost)}, outbox {dict(statuses)}"
    )
    assert lock.taken and lock.released, "the other writer really held the lock"
    assert result.get("sent") == MESSAGES
    assert not duplicates and not lost and statuses == {"sent": MESSAGES}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_run_that_cannot_get_the_sqlite_lock_fails_cleanly_and_the_next_completes(
    settings, sandbox, monkeypatch
):
    queue_messages(settings.database_url, MESSAGES)
    # Writers give up after one second here instead of thirty.
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", f"{settings.database_url}?timeout=1")
    get_settings.cache_clear()
    sandbox.faults.set("sms", FaultConfig(latency_ms=5))
    lock = WriteLock(settings.database_url)
    holder = when(lambda: len(sandbox.sms_sent) >= 20, lock.hold)

    state = dispatch_messages(as_of=ANCHOR, return_state=True)
    accepted_while_locked = len(sandbox.sms_sent)
    lock.release()
    holder.join(10)
    assert state.is_failed(), state
    assert "database is locked" in (state.message or ""), state.message

    # The next runs wait for the lock as usual (a busy machine can keep a writer past 1 s).
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    reruns, runs = settle(settings.database_url, sandbox)
    duplicates, lost, statuses = outcome(settings.database_url, sandbox)
    print(
        f"\nsqlite lock held to the end of the run: {MESSAGES} messages, the run failed "
        f"({(state.message or '')[:80]}...) after {accepted_while_locked} accepted; "
        f"{runs} re-runs {dict(reruns)}, duplicates {len(duplicates)}, lost {len(lost)}"
    )
    assert not duplicates and not lost and statuses == {"sent": MESSAGES}
