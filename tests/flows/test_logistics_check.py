"""logistics-check end to end: sandbox over HTTP, real Prefect server, SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from flows.logistics_check import logistics_check
from models import AfterSalesCase, CaseEvent, OutboxMessage, Shipment, Shop, TrackingEvent
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")

# What each sandbox scenario must look like after one check at ANCHOR.
EXPECTED = {
    "delivered": ("delivered", set()),
    "no_tracking": ("pending", {("no_tracking", "minor")}),
    "stalled_minor": (None, {("stalled", "minor")}),
    "stalled_serious": (None, {("stalled", "serious")}),
    "problem": ("exception", {("problem", "serious")}),
    "refused": ("refused", {("refused", "serious")}),
    "returning": ("returned", {("returning", "minor")}),
    "returned": ("returned", {("returning", "minor")}),
    "proxy_signed": ("delivered", {("signed_by_proxy", "minor")}),
    "overdue": (None, {("overdue", "minor")}),
    "lost": ("expired", {("expired", "serious")}),
    "unknown_courier": ("pending", {("untrackable", "minor")}),
}


def shipments_by_waybill(url):
    with session_scope(url) as session:
        return {s.waybill: s for s in session.exec(select(Shipment))}


def cases_by_shipment(url):
    found: dict[int, set[tuple[str, str]]] = {}
    with session_scope(url) as session:
        for case in session.exec(select(AfterSalesCase).where(AfterSalesCase.state == "open")):
            found.setdefault(case.shipment_id, set()).add((case.kind, case.severity))
    return found


def test_one_run_checks_every_parcel_and_opens_the_right_cases(settings, sandbox):
    summary = logistics_check(as_of=ANCHOR)
    world = list(sandbox.world.shipments.values())
    shipments = shipments_by_waybill(settings.database_url)
    cases = cases_by_shipment(settings.database_url)

    # Every shipped trade of every shop became exactly one shipment.
    assert set(shipments) == {s.waybill for s in world}
    assert summary["shipments_due"] == len(world)

    queries = sandbox.stats.kuaidi100_queries
    for parcel in world:
        row = shipments[parcel.waybill]
        status, expected_cases = EXPECTED.get(parcel.scenario, (None, None))
        if parcel.scenario == "unknown_courier":
            assert queries.get(parcel.waybill, 0) == 0, "an unknown courier is never queried"
        else:
            assert queries.get(parcel.waybill) == 1, f"{parcel} queried once"
        if parcel.scenario == "malformed":
            assert row.check_error and parcel.waybill not in ("",)
            assert row.next_check_at == ANCHOR + timedelta(minutes=60)
            continue
        if status:
            assert row.status == status, parcel
        if expected_cases is not None:
            assert expected_cases <= cases.get(row.id, set()), parcel
            if not expected_cases:
                assert row.id not in cases, parcel
        assert row.check_error is None or parcel.scenario == "unknown_courier", parcel

    delivered = [shipments[p.waybill] for p in world if p.scenario == "delivered"]
    assert delivered and all(s.next_check_at is None for s in delivered), "delivered stop"
    assert all(
        s.next_check_at >= ANCHOR + timedelta(minutes=30)
        for s in shipments.values()
        if s.next_check_at is not None
    ), "never more than one query per waybill per 30 minutes"


def test_rerun_adds_nothing_and_respects_the_query_interval(settings, sandbox):
    logistics_check(as_of=ANCHOR)
    with session_scope(settings.database_url) as session:
        before = (
            len(session.exec(select(AfterSalesCase)).all()),
            len(session.exec(select(OutboxMessage)).all()),
            len(session.exec(select(TrackingEvent)).all()),
        )
    queries_before = sum(sandbox.stats.kuaidi100_queries.values())

    again = logistics_check(as_of=ANCHOR + timedelta(minutes=10))
    assert again["shipments_due"] == 0
    assert sum(sandbox.stats.kuaidi100_queries.values()) == queries_before
    assert sandbox.stats.kuaidi100_locks == 0

    # Seven hours on, the parcels in flight are checked again; known scans are not duplicated.
    sandbox.clock.set(ANCHOR + timedelta(hours=7))
    later = logistics_check(as_of=ANCHOR + timedelta(hours=7))
    assert later["shipments_due"] > 0
    assert sandbox.stats.kuaidi100_locks == 0
    with session_scope(settings.database_url) as session:
        cases = session.exec(select(AfterSalesCase)).all()
        keys = Counter(c.case_key for c in cases)
        assert max(keys.values()) == 1, "never two cases for one parcel and kind"
        assert len(cases) >= before[0]
        events = session.exec(select(TrackingEvent)).all()
        assert len({(e.shipment_id, e.fingerprint) for e in events}) == len(events)
        messages = session.exec(select(OutboxMessage)).all()
        assert len({m.idempotency_key for m in messages}) == len(messages)


def test_case_history_and_notices_follow_the_playbook(settings, sandbox):
    logistics_check(as_of=ANCHOR)
    with session_scope(settings.database_url) as session:
        cases = session.exec(select(AfterSalesCase)).all()
        history = session.exec(select(CaseEvent)).all()
        messages = session.exec(select(OutboxMessage)).all()
        shops = {s.id: s.code for s in session.exec(select(Shop))}
    assert all(c.next_action and c.next_action_at for c in cases if c.state == "open")
    assert {h.case_id for h in history if h.action == "opened"} == {c.id for c in cases}
    by_kind = {c.kind: c.next_action for c in cases}
    assert by_kind["no_tracking"] == "ask_warehouse"
    assert by_kind["signed_by_proxy"] == "confirm_proxy_signature"
    assert by_kind["expired"] == "register_loss_and_reship"

    for message in messages:
        assert message.text.startswith("亲")
        if shops[message.shop_id] == "xiaoya":
            # The platform masks this shop's phones: recorded, not sent, with the reason.
            assert message.status == "suppressed" and "masked" in message.reason
    pending = [m for m in messages if m.status == "pending"]
    assert pending and all(re.fullmatch(r"1[3-9]\d{9}", m.phone) for m in pending)


def test_bad_courier_answer_is_recorded_with_masked_log_and_the_batch_goes_on(
    settings, sandbox, caplog
):
    with caplog.at_level(logging.WARNING):
        logistics_check(as_of=ANCHOR)
    shipments = shipments_by_waybill(settings.database_url)
    malformed = [p for p in sandbox.world.shipments.values() if p.scenario == "malformed"]
    assert malformed
    for parcel in malformed:
        row = shipments[parcel.waybill]
        assert row.check_error and row.check_error_count == 1
        assert parcel.waybill in caplog.text
    healthy = [
        shipments[p.waybill] for p in sandbox.world.shipments.values() if p.scenario == "delivered"
    ]
    assert all(s.status == "delivered" for s in healthy)
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", caplog.text), "phones are masked in logs"

    # Unreadable answers never tell the buyer "no tracking"; after three an agent takes over.
    now = ANCHOR
    for _ in range(2):
        now += timedelta(minutes=61)
        sandbox.clock.set(now)
        logistics_check(as_of=now)
    shipments = shipments_by_waybill(settings.database_url)
    cases = cases_by_shipment(settings.database_url)
    malformed_orders = {shipments[p.waybill].order_id for p in malformed}
    for parcel in malformed:
        row = shipments[parcel.waybill]
        assert row.check_error_count == 3
        assert cases.get(row.id) == {("untrackable", "minor")}
    with session_scope(settings.database_url) as session:
        notices = session.exec(select(OutboxMessage)).all()
    assert not [m for m in notices if m.order_id in malformed_orders]


def test_sf_and_zto_parcels_of_masked_buyers_are_queried_with_the_numbers_last_four_digits(
    settings, sandbox
):
    from sqlalchemy import update

    from sandbox.shops import SHOPS

    masked_shops = {code for code, shop in SHOPS.items() if not shop.can_decrypt_phone}
    with session_scope(settings.database_url) as session:
        # A shop that never gave its own number: only the buyer's can prove the query.
        session.execute(update(Shop).values(sender_phone=""))
    logistics_check(as_of=ANCHOR)
    shipments = shipments_by_waybill(settings.database_url)
    picky = [
        p
        for p in sandbox.world.shipments.values()
        if p.com in ("shunfeng", "zhongtong")
        and p.shop in masked_shops
        and p.scenario not in ("malformed", "unknown_courier")
        and p.waybill in shipments
    ]
    assert picky, "the world has SF/ZTO parcels of buyers whose number is masked"
    failed = {p.waybill: shipments[p.waybill].check_error for p in picky}
    assert not any(failed.values()), failed
