"""The flows against a sandbox failing 30% of calls with 5xx plus 429 bursts."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.sandbox import FaultConfig
from aftercare.settings import get_settings
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from models import OutboxMessage, Shipment
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
UNCHECKABLE = {"malformed", "unknown_courier"}


def test_every_due_parcel_is_checked_and_every_message_sent_exactly_once(
    settings, sandbox, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_RETRY__MAX_ATTEMPTS", "6")
    get_settings.cache_clear()
    faults = FaultConfig(error_rate=0.3, burst_every=60, burst_length=2, retry_after=1)
    for provider in ("kuaidi100", "taobao", "sms"):
        sandbox.faults.set(provider, faults)

    now = ANCHOR
    logistics_check(as_of=now)
    checkable = {
        p.waybill for p in sandbox.world.shipments.values() if p.scenario not in UNCHECKABLE
    }
    # A parcel whose every attempt failed is recorded and due again an hour later.
    for _ in range(4):
        with session_scope(settings.database_url) as session:
            failing = [
                s.waybill
                for s in session.exec(select(Shipment))
                if s.waybill in checkable and s.check_error
            ]
        if not failing:
            break
        now += timedelta(minutes=61)
        sandbox.clock.set(now)
        logistics_check(as_of=now)

    with session_scope(settings.database_url) as session:
        shipments = {s.waybill: s for s in session.exec(select(Shipment))}
    assert checkable <= set(shipments)
    unchecked = [
        w for w in checkable if shipments[w].check_error or not shipments[w].last_checked_at
    ]
    assert not unchecked, f"parcels never checked: {unchecked}"

    with session_scope(settings.database_url) as session:
        intended = {
            m.idempotency_key
            for m in session.exec(select(OutboxMessage))
            if m.status not in ("suppressed",)
        }
    for _ in range(10):
        dispatch_messages(as_of=now)
        with session_scope(settings.database_url) as session:
            open_rows = [
                m
                for m in session.exec(select(OutboxMessage))
                if m.status in ("pending", "sending", "failed")
            ]
        if not open_rows:
            break
        now += timedelta(minutes=6)
    per_key = Counter(sms.out_id for sms in sandbox.sms_sent)
    duplicates = {k: n for k, n in per_key.items() if n > 1}
    lost = intended - set(per_key)
    faults_seen = dict(sandbox.stats.faults)
    print(
        f"\nchaos: {len(checkable)} parcels checked, {len(intended)} messages, "
        f"faults injected {faults_seen}, duplicates {len(duplicates)}, lost {len(lost)}"
    )
    assert sum(faults_seen.values()) > 50, "the faults really happened"
    assert not duplicates and not lost
    assert not open_rows
