"""Process faults: a real SIGKILL of a running pipeline, then re-runs after the lease."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import col, select

from aftercare.rules.anomalies import detect_anomalies
from aftercare.rules.cases import plan_cases
from aftercare.rules.tracking import ShipmentStatus
from aftercare.settings import get_settings
from aftercare.store.cases import load_parcels
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from models import AfterSalesCase, OutboxMessage, Shipment, TrackingEvent
from models.db import session_scope
from sandbox import FaultConfig
from tests.chaos import run_flow
from tests.conftest import ANCHOR
from tests.flows.test_dispatch_messages import queue_messages

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
MESSAGES = 240


def statuses(url: str) -> Counter[str]:
    with session_scope(url) as session:
        return Counter(m.status for m in session.exec(select(OutboxMessage)))


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    settings, sandbox, monkeypatch, tmp_path
):
    monkeypatch.setenv("AFTERCARE_DISPATCH__BATCH_SIZE", "40")
    get_settings.cache_clear()
    queue_messages(settings.database_url, MESSAGES)
    sandbox.faults.set("sms", FaultConfig(latency_ms=15))

    log = tmp_path / "dispatch.log"
    process = run_flow.start("dispatch-messages", ANCHOR, log)
    # Batches of 40, two at a time, outcomes committed every 25: at 100 the second wave is
    # claimed and partly sent, none of it recorded yet.
    run_flow.kill_when(process, lambda: len(sandbox.sms_sent) >= 100, log)
    accepted_at_kill = len(sandbox.sms_sent)
    at_kill = statuses(settings.database_url)
    assert 0 < accepted_at_kill < MESSAGES, "the kill landed mid-batch"
    assert at_kill["sending"] > 0, "some messages were claimed and not yet settled"

    # Re-runs after the lease (10 min): the dead run's claims are settled with the provider first.
    sandbox.faults.clear()
    now, reruns = ANCHOR, Counter[str]()
    for _ in range(5):
        now += timedelta(minutes=settings.dispatch.lease_minutes + 1)
        sandbox.clock.set(now)
        reruns.update(dispatch_messages(as_of=now))
        if not {"pending", "sending"} & set(+statuses(settings.database_url)):
            break

    per_key = Counter(sms.out_id for sms in sandbox.sms_sent)
    with session_scope(settings.database_url) as session:
        rows = {m.idempotency_key: m for m in session.exec(select(OutboxMessage))}
    duplicates = {k: n for k, n in per_key.items() if n > 1}
    lost = [
        k for k, m in rows.items() if k not in per_key and not (m.status == "failed" and m.reason)
    ]
    print(
        f"\nkill -9 dispatcher: {MESSAGES} messages, faults injected 1 SIGKILL after "
        f"{accepted_at_kill} accepted (outbox then {dict(at_kill)}), re-runs {dict(reruns)}, "
        f"duplicates {len(duplicates)}, lost {len(lost)}"
    )
    assert not duplicates, duplicates
    assert not lost, lost
    # QuerySendDetails carries no BizId: a confirmed message is recorded sent without one.
    assert all(m.status == "sent" and m.sent_at for m in rows.values())
    assert reruns["confirmed_sent"] > 0, "what the dead run sent was confirmed, not resent"


def checked_parcels(url: str) -> int:
    with session_scope(url) as session:
        checked = select(Shipment.id).where(col(Shipment.last_checked_at).is_not(None))
        return len(session.exec(checked).all())


def unreviewed(url: str, thresholds) -> list[str]:
    """Parcels whose recorded check was never reviewed: the case rules would still act on them."""
    with session_scope(url) as session:
        rows = session.exec(select(Shipment).where(col(Shipment.updated_at) >= ANCHOR)).all()
        checked = {s.id: s.updated_at for s in rows if s.last_checked_at or s.check_error}
        parcels = load_parcels(session=session, ids=list(checked))
    found = []
    for parcel in parcels:
        anomalies = detect_anomalies(parcel.facts, checked[parcel.shipment_id], thresholds)
        delivered = parcel.facts.status is ShipmentStatus.DELIVERED
        plan = plan_cases(parcel.cases, anomalies, delivered, parcel.facts.check_failures == 0)
        found += [f"{parcel.waybill}: {c.action} {c.kind}" for c in plan.changes]
    return found


def test_logistics_check_killed_mid_run_leaves_no_half_written_state(
    settings, sandbox, monkeypatch, tmp_path
):
    for name, value in {
        "CHUNK_SIZE": "6",
        "MAX_CONCURRENT_CHUNKS": "2",
        "QUERIES_IN_FLIGHT_PER_CHUNK": "2",
    }.items():
        monkeypatch.setenv(f"AFTERCARE_LOGISTICS__{name}", value)
    get_settings.cache_clear()
    sandbox.faults.set("kuaidi100", FaultConfig(latency_ms=25))
    world = {p.waybill for p in sandbox.world.shipments.values()}

    log = tmp_path / "logistics.log"
    process = run_flow.start("logistics-check", ANCHOR, log)
    run_flow.kill_when(process, lambda: checked_parcels(settings.database_url) >= 20, log)
    with session_scope(settings.database_url) as session:
        shipments = session.exec(select(Shipment)).all()
        claimed_at_kill = sum(1 for s in shipments if s.claimed_by)
        recorded = {s.waybill for s in shipments if s.last_checked_at}
    recorded_at_kill = len(recorded)
    queries_at_kill = Counter(sandbox.stats.kuaidi100_queries)
    queried_at_kill = sum(sandbox.stats.kuaidi100_queries.values())
    assert set(world) == {s.waybill for s in shipments}, "the sync was complete"
    assert 0 < recorded_at_kill < len(world) and claimed_at_kill > 0, "killed mid-run"

    # The re-run comes after the claim lease (15 min) and the courier's 30-minute query rule.
    later = ANCHOR + timedelta(minutes=31)
    sandbox.faults.clear()
    sandbox.clock.set(later)
    rerun = logistics_check(as_of=later)

    with session_scope(settings.database_url) as session:
        shipments = session.exec(select(Shipment)).all()
        events = session.exec(select(TrackingEvent)).all()
        cases = session.exec(select(AfterSalesCase)).all()
        messages = session.exec(select(OutboxMessage)).all()
    never_checked = [s.waybill for s in shipments if not (s.last_checked_at or s.check_error)]
    still_claimed = [s.waybill for s in shipments if s.claimed_by]
    # A parcel the killed run recorded is not asked again: its next check is hours away.
    asked_again = [w for w in recorded if sandbox.stats.kuaidi100_queries[w] > queries_at_kill[w]]
    scans = Counter((e.shipment_id, e.occurred_at, e.context) for e in events)
    open_cases = Counter((c.shipment_id, c.kind) for c in cases if c.state == "open")
    duplicates = (
        sum(n - 1 for n in scans.values())
        + sum(n - 1 for n in open_cases.values())
        + len(messages)
        - len({m.idempotency_key for m in messages})
    )
    half_done = unreviewed(settings.database_url, settings.logistics)
    print(
        f"\nkill -9 logistics-check: {len(world)} parcels, faults injected 1 SIGKILL with "
        f"{recorded_at_kill} recorded, {queried_at_kill} queried, {claimed_at_kill} claimed; "
        f"re-run checked {rerun.get('checked', 0)} of {rerun['shipments_due']} due; "
        f"{len(events)} scans, {len(cases)} cases, {len(messages)} notices; duplicates "
        f"{duplicates}, never checked {len(never_checked)}, still claimed {len(still_claimed)}, "
        f"checked but not reviewed {len(half_done)}, recorded then queried again "
        f"{len(asked_again)}"
    )
    assert not never_checked and not still_claimed and not asked_again
    assert duplicates == 0
    assert not half_done, half_done
