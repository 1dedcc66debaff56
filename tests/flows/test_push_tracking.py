"""Tracking by subscription: the sandbox pushes, the receiver stores, the flow drains."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
import requests
from sqlmodel import select

from flows.logistics_check import logistics_check
from models import Shipment, TrackingPush
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def pushes_on(monkeypatch, settings, receiver):
    """Subscriptions on, with the receiver as the callback."""
    from aftercare.settings import get_settings

    monkeypatch.setenv("AFTERCARE_LOGISTICS__SUBSCRIBE", "true")
    monkeypatch.setenv("AFTERCARE_KUAIDI100_CALLBACK_URL", f"{receiver}/kuaidi100/push")
    get_settings.cache_clear()
    return get_settings()


def shipments(url):
    with session_scope(url) as session:
        return {s.waybill: s for s in session.exec(select(Shipment))}


def test_pushes_keep_parcels_current_without_polling(pushes_on, sandbox):
    first = logistics_check(as_of=ANCHOR)
    assert first["push:subscriptions:active"] > 0
    rows = shipments(pushes_on.database_url)
    active = [s for s in rows.values() if s.subscription == "active" and not s.check_error]
    quiet = ANCHOR + timedelta(hours=12)
    early = [
        (s.waybill, s.status, s.next_check_at)
        for s in active
        if s.next_check_at and s.next_check_at < quiet
    ]
    assert active and not early, early[:3]
    healthy = {w for w, s in rows.items() if s.subscription == "active" and not s.check_error}
    queries = {w: sandbox.stats.kuaidi100_queries[w] for w in healthy}

    # A day passes: the courier scans, Kuaidi100 pushes, the receiver stores, the flow drains.
    later = ANCHOR + timedelta(hours=6)
    sandbox.clock.set(later)
    assert sandbox.deliver_pushes(timeout=60)
    delivered = [p for p in sandbox.pushes if p.delivered]
    assert delivered, "the sandbox pushed to the receiver"
    with session_scope(pushes_on.database_url) as session:
        stored = session.exec(select(TrackingPush)).all()
    assert len(stored) >= len(delivered) and all(p.processed_at is None for p in stored)

    drained = logistics_check(as_of=later)
    assert drained["push:pushes"] == len(stored)
    assert {w: sandbox.stats.kuaidi100_queries[w] for w in healthy} == queries, "no polling"
    after = shipments(pushes_on.database_url)
    for push in delivered:
        if push.malformed:
            continue
        row = after[push.waybill]
        assert row.last_push_at == later
        if push.status == "shutdown":
            assert row.status in ("delivered", "returned") and row.next_check_at is None
    with session_scope(pushes_on.database_url) as session:
        left = session.exec(select(TrackingPush).where(TrackingPush.processed_at.is_(None))).all()  # type: ignore[union-attr]
        bad = session.exec(select(TrackingPush).where(TrackingPush.error.is_not(None))).all()  # type: ignore[union-attr]
    assert not left
    malformed = [p for p in delivered if p.malformed]
    assert len(bad) >= len(malformed), "unreadable pushes keep their reason"


def test_the_receiver_refuses_forged_pushes(pushes_on, receiver):
    import requests

    answer = requests.post(
        f"{receiver}/kuaidi100/push",
        data={
            "param": '{"status":"polling","lastResult":{"nu":"YT1","com":"yuantong","data":[]}}',
            "sign": "0" * 32,
        },
        timeout=5,
    )
    assert answer.status_code == 401 and answer.json()["result"] is False
    with session_scope(pushes_on.database_url) as session:
        assert session.exec(select(TrackingPush)).all() == []


def retry_late(receiver, settings, push, note="重新推送"):
    """Post an earlier push again as a late delivery (its message field renewed, so the
    receiver stores it instead of taking it for the copy it already holds)."""
    param = json.loads(push.param)
    param["message"] = note
    text = json.dumps(param, ensure_ascii=False)
    salt = settings.kuaidi100_salt.get_secret_value()
    sign = hashlib.md5((text + salt).encode()).hexdigest().upper()
    answer = requests.post(f"{receiver}/kuaidi100/push", data={"param": text, "sign": sign})
    return answer.status_code


def test_an_old_push_retried_late_never_moves_a_parcel_backwards(pushes_on, sandbox, receiver):
    logistics_check(as_of=ANCHOR)
    sandbox.clock.set(ANCHOR + timedelta(hours=6))
    assert sandbox.deliver_pushes(timeout=60)
    logistics_check(as_of=ANCHOR + timedelta(hours=6))
    early = {p.waybill: p for p in sandbox.pushes if p.delivered and not p.malformed}

    # Days later the newer pushes arrive; before they are drained Kuaidi100 retries the old
    # ones, so both sit in one batch with the old one last.
    later = ANCHOR + timedelta(days=3)
    sandbox.clock.set(later)
    assert sandbox.deliver_pushes(timeout=60)
    newest = {}
    for push in sandbox.pushes:
        if push.delivered and not push.malformed and push.status != "abort":
            newest[push.waybill] = push
    moved = {w: p for w, p in newest.items() if w in early and p.scans > early[w].scans}
    assert moved, "some parcels were scanned again"
    for waybill in moved:
        assert retry_late(receiver, pushes_on, early[waybill]) == 200
    logistics_check(as_of=later)
    rows = shipments(pushes_on.database_url)
    assert {w: rows[w].event_count for w in moved} == {w: p.scans for w, p in moved.items()}
    settled = {w: (rows[w].status, rows[w].last_event_at) for w in moved}

    # And once more after the newer ones were applied: the old news changes nothing.
    for waybill in moved:
        assert retry_late(receiver, pushes_on, early[waybill], note="再次推送") == 200
    again = logistics_check(as_of=later + timedelta(minutes=5))
    assert again["push:pushes"] == len(moved) and again["push:older_news"] == len(moved), again
    rows = shipments(pushes_on.database_url)
    assert {w: (rows[w].status, rows[w].last_event_at) for w in moved} == settled


def test_urgent_parcels_reach_staff_within_the_minute_of_their_push(pushes_on, sandbox):
    from flows.parcel_pushes import parcel_pushes
    from models import AfterSalesCase

    logistics_check(as_of=ANCHOR)  # subscribes every parcel
    later = ANCHOR + timedelta(hours=6)
    sandbox.clock.set(later)
    assert sandbox.deliver_pushes(timeout=60)
    figures = parcel_pushes(as_of=later)  # the minute after: no logistics-check needed
    assert figures["push:pushes"] > 0
    with session_scope(pushes_on.database_url) as session:
        urgent = session.exec(
            select(AfterSalesCase).where(
                AfterSalesCase.kind.in_(("refused", "returning", "problem")),  # type: ignore[attr-defined]
                AfterSalesCase.state == "open",
            )
        ).all()
    assert urgent, "the world has parcels refused, returning or stuck"
    assert all(c.alerted_at is not None for c in urgent)
    told = "\n".join(m.text for m in sandbox.dingtalk.messages)
    for case in urgent:
        assert f"案例 #{case.id} " in told, f"staff were told about case {case.id}"
    before = len(sandbox.dingtalk.messages)
    again = parcel_pushes(as_of=later + timedelta(minutes=1))
    assert again["staff_alerts_queued"] == 0 and len(sandbox.dingtalk.messages) == before
