"""Two overlapping runs of every pipeline against one database: nothing is done twice.

A scheduler's run and a manual one (or two workers) overlap: both claim, decide and send at
the same time. Counted on the sandbox side: one SMS per message key, one robot alert per case,
one explanation per rating; in the database: one case per business key, one message per key.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from deployments.sandbox_world import import_sandbox_members
from flows.bad_review_followups import bad_review_followups
from flows.care_messages import care_messages
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.unpaid_reminders import unpaid_order_reminders
from models import AfterSalesCase, OutboxMessage, Review
from models.db import session_scope
from sandbox import FaultConfig
from tests.chaos.pipelines import alerts_per_case, figures
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
# 09:00 in Shanghai 23 days on: the first bad reviews' last day to be explained.
REVIEW_DAY = ANCHOR - timedelta(hours=1) + timedelta(days=23)


def overlapping(call: Callable[[], Any]) -> list[Any]:
    """Start two runs of `call` at once; return both results, or fail with their errors."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            results.append(call())
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"an overlapping run failed: {errors!r}"
    return results


def dispatch_twice(now) -> None:
    """Two dispatchers at once, then again a little later for what the min gap deferred."""
    for minutes in (0, 31):
        overlapping(lambda m=minutes: dispatch_messages(as_of=now + timedelta(minutes=m)))


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_two_overlapping_runs_of_every_pipeline_do_nothing_twice(settings, sandbox):
    import_sandbox_members(sandbox, settings.database_url)
    overlapping(lambda: logistics_check(as_of=ANCHOR))
    assert max(sandbox.stats.kuaidi100_queries.values()) == 1, "no parcel queried by both runs"
    assert sandbox.stats.kuaidi100_locks == 0
    overlapping(lambda: unpaid_order_reminders(as_of=ANCHOR))
    overlapping(lambda: care_messages(as_of=ANCHOR))
    dispatch_twice(ANCHOR)

    sandbox.clock.set(REVIEW_DAY)
    # A slow robot keeps one run's digests in flight while the other run looks for news.
    sandbox.faults.set("dingtalk", FaultConfig(latency_ms=400))
    overlapping(lambda: bad_review_followups(as_of=REVIEW_DAY))
    dispatch_twice(REVIEW_DAY)
    check_nothing_twice(settings.database_url, sandbox, REVIEW_DAY, "every pipeline, PostgreSQL")
    assert sandbox.robot_messages and sandbox.explanations, "reviews were alerted and explained"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_overlapping_claims_take_each_parcel_order_and_message_once(settings, sandbox):
    overlapping(lambda: logistics_check(as_of=ANCHOR))
    assert max(sandbox.stats.kuaidi100_queries.values()) == 1, "no parcel queried by both runs"
    overlapping(lambda: unpaid_order_reminders(as_of=ANCHOR))
    dispatch_twice(ANCHOR)
    check_nothing_twice(settings.database_url, sandbox, ANCHOR, "claims by lease, SQLite")


def check_nothing_twice(url: str, sandbox, day, label: str) -> None:
    """Count what the overlapping runs did on both sides: nothing twice, nothing due left."""
    with session_scope(url) as session:
        messages = session.exec(select(OutboxMessage)).all()
        cases = session.exec(select(AfterSalesCase)).all()
        reviews = session.exec(
            select(Review.oid).join(AfterSalesCase, AfterSalesCase.review_id == Review.id)
        ).all()
    pipelines = Counter(m.idempotency_key.split(":")[0] for m in messages)
    sent = Counter(sms.out_id for sms in sandbox.sms_sent)
    alerts = alerts_per_case(sandbox)
    explained = Counter(e.oid for e in sandbox.explanations)
    parcel_kinds = Counter((c.shipment_id, c.kind) for c in cases if c.shipment_id)
    duplicates = {
        "sms": [k for k, n in sent.items() if n > 1],
        "cases per parcel and kind": [k for k, n in parcel_kinds.items() if n > 1],
        "cases per rating": [k for k, n in Counter(reviews).items() if n > 1],
        "robot alerts per case": [k for k, n in alerts.items() if n > 1],
        "explanations": [k for k, n in explained.items() if n > 1],
    }
    review_cases = [c for c in cases if c.kind == "review"]
    last_dispatch = day + timedelta(minutes=31)
    due_unsent = [
        m.idempotency_key
        for m in messages
        if m.status in ("pending", "sending", "failed")
        and (m.next_attempt_at is None or m.next_attempt_at <= last_dispatch)
    ]
    lost = {
        "due, not sent": due_unsent,
        "recorded sent, never sent": [
            m.idempotency_key
            for m in messages
            if m.status == "sent" and not sent[m.idempotency_key]
        ],
        "robot alerts": [c.id for c in review_cases if not alerts[c.id or 0]],
    }
    figures(
        f"two overlapping runs: {label}",
        sandbox,
        items=(
            f"{len(cases)} cases ({len(review_cases)} for reviews), {len(messages)} messages "
            f"decided {dict(pipelines)}, {len(sent)} SMS sent, {len(sandbox.robot_messages)} "
            f"robot digests, {len(explained)} explanations"
        ),
        duplicates=sum(len(v) for v in duplicates.values()),
        lost=sum(len(v) for v in lost.values()),
    )
    assert sent
    assert not any(duplicates.values()), duplicates
    assert not any(lost.values()), lost
