"""Bad records planted in the sandbox: each gets a clear, recorded reason; its batch goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.settings import Settings
from flows.bad_review_followups import bad_review_followups
from flows.logistics_check import logistics_check
from flows.unpaid_reminders import unpaid_order_reminders
from models import (
    AfterSalesCase,
    Order,
    OutboxMessage,
    RejectedRecord,
    Review,
    Shipment,
    SyncCursor,
    TrackingEvent,
)
from models.db import session_scope
from sandbox.planted import plant
from sandbox.shops import SHOPS
from tests.conftest import ANCHOR

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
SHOP = "sishi"  # a shop with the platform's permission to see phone numbers


def listed_tids(sandbox, settings: Settings, until=ANCHOR) -> set[str]:
    """Every trade the platform lists for the first sync up to `until`, as text."""
    start = until - timedelta(days=settings.logistics.initial_sync_days)
    end = until - timedelta(minutes=settings.sync.lag_minutes)
    return {
        str(t.tid)
        for shop in SHOPS
        for t in sandbox.world.modified_between(shop, start, end, not_after=until)
    }


def stored_tids(url: str) -> set[str]:
    with session_scope(url) as session:
        return set(session.exec(select(Order.tid)).all())


def rejects(url: str, source: str) -> dict[str, str]:
    with session_scope(url) as session:
        rows = session.exec(select(RejectedRecord).where(RejectedRecord.source == source)).all()
    return {r.record_key: r.reason for r in rows}


def shipment_and_cases(url: str, waybill: str) -> tuple[Shipment, dict[str, list[str]]]:
    with session_scope(url) as session:
        shipment = session.exec(select(Shipment).where(Shipment.waybill == waybill)).one()
        cases = session.exec(
            select(AfterSalesCase.kind, AfterSalesCase.summary).where(
                AfterSalesCase.shipment_id == shipment.id
            )
        ).all()
    found: dict[str, list[str]] = {}
    for kind, detail in cases:
        found.setdefault(kind, []).append(detail or "")
    return shipment, found


# kind -> does the trade itself get saved (its problem is downstream of the order)?
TRADE_KINDS = {
    "invalid_phone": True,
    "no_items": False,
    "unknown_courier": True,
    "unknown_waybill": True,
    "bad_waybill": True,
    "future_time": False,
    "future_scan": True,
    "zoned_time": False,
}


@pytest.mark.parametrize("kind", sorted(TRADE_KINDS))
def test_a_bad_record_gets_its_reason_and_the_rest_of_the_batch_is_processed(
    settings, sandbox, kind
):
    planted = plant(sandbox.world, kind, shop=SHOP)
    tid = str(planted["tid"])
    good = listed_tids(sandbox, settings) - {tid}

    summary = logistics_check(as_of=ANCHOR)
    url = settings.database_url

    # Every good trade of every shop was saved, and every good parcel checked.
    saved = stored_tids(url)
    assert good <= saved
    assert (tid in saved) is TRADE_KINDS[kind]
    assert summary["chunks_failed"] == 0
    good_parcels = {s.waybill for s in sandbox.world.shipments.values()}
    with session_scope(url) as session:
        checked = set(
            session.exec(
                select(Shipment.waybill).where(Shipment.last_checked_at == ANCHOR)  # type: ignore[arg-type]
            ).all()
        )
    unknown = {s.waybill for s in sandbox.world.shipments_in("unknown_courier")}
    assert good_parcels - unknown <= checked, "every good parcel was asked about"

    trade_rejects = rejects(url, "taobao.trade")
    if kind == "no_items":
        assert "no items" in trade_rejects[tid]
    elif kind == "future_time":
        assert "in the future" in trade_rejects[tid] and "clock skew" in trade_rejects[tid]
    elif kind == "zoned_time":
        assert "unreadable trade" in trade_rejects[tid] and "time" in trade_rejects[tid]
    elif kind == "bad_waybill":
        reason = rejects(url, "taobao.waybill")[f"{tid}/{planted['waybill']}"]
        assert "not a tracking number" in reason
        with session_scope(url) as session:
            assert not session.exec(
                select(Shipment).where(Shipment.waybill == planted["waybill"])
            ).all(), "no parcel is tracked under a number that is none"
    elif kind == "unknown_courier":
        shipment, cases = shipment_and_cases(url, planted["waybill"])
        assert shipment.courier is None
        assert shipment.check_error == (
            "unknown courier 火星快递: Kuaidi100 does not recognise the waybill either"
        )
        assert shipment.next_check_at is None, "never asked about until the data is fixed"
        assert any("courier unknown" in d for d in cases["untrackable"])
    elif kind == "unknown_waybill":
        shipment, cases = shipment_and_cases(url, planted["waybill"])
        assert shipment.courier == "yuantong" and shipment.event_count == 0
        assert any("no scan 48 h after shipping" in d for d in cases["no_tracking"])
    elif kind == "future_scan":
        shipment, _ = shipment_and_cases(url, planted["waybill"])
        assert shipment.status == "in_transit" and shipment.event_count == 2
        assert shipment.last_event_at == ANCHOR - timedelta(days=1), "the real last scan"
        (key, reason), *more = rejects(url, "kuaidi100.scan").items()
        assert not more and key.startswith(f"{planted['waybill']}@")
        assert "scan 2026-11-20 04:00 UTC is 120 min in the future" in reason
        with session_scope(url) as session:
            kept = session.exec(
                select(TrackingEvent.occurred_at)
                .join(Shipment, Shipment.id == TrackingEvent.shipment_id)  # type: ignore[arg-type]
                .where(Shipment.waybill == planted["waybill"])
            ).all()
        assert max(kept) < ANCHOR
    elif kind == "invalid_phone":
        reminders = unpaid_order_reminders(as_of=ANCHOR)
        assert reminders["queued"] > 0
        with session_scope(url) as session:
            mine = session.exec(
                select(OutboxMessage)
                .join(Order, Order.id == OutboxMessage.order_id)  # type: ignore[arg-type]
                .where(Order.tid == tid)
            ).all()
        assert [(m.status, m.reason) for m in mine] == [("suppressed", "invalid mobile number")]
    if kind not in ("bad_waybill",):
        assert tid in trade_rejects or TRADE_KINDS[kind]


def test_a_trade_stamped_in_the_future_neither_moves_the_cursor_nor_hides_later_changes(
    settings, sandbox
):
    url = settings.database_url
    planted = plant(sandbox.world, "future_time", shop=SHOP, hours_ahead=48)
    logistics_check(as_of=ANCHOR)
    with session_scope(url) as session:
        cursors = session.exec(select(SyncCursor.synced_until)).all()
    assert cursors and max(cursors) <= ANCHOR, "the watermark never passes our own clock"
    assert "in the future" in rejects(url, "taobao.trade")[str(planted["tid"])]

    # An unpaid order is paid after that run: the next run sees the payment.
    unpaid = next(
        t
        for t in sandbox.world.trades_of(SHOP)
        if t.status == "WAIT_BUYER_PAY" and t.created < ANCHOR - timedelta(hours=1)
    )
    assert unpaid.tid and str(unpaid.tid) in stored_tids(url)
    later = ANCHOR + timedelta(hours=1)
    sandbox.world.pay(unpaid.tid, ANCHOR + timedelta(minutes=20))
    sandbox.clock.set(later)
    logistics_check(as_of=later)
    with session_scope(url) as session:
        order = session.exec(select(Order).where(Order.tid == str(unpaid.tid))).one()
    assert order.status == "WAIT_SELLER_SEND_GOODS"
    assert order.paid_at == ANCHOR + timedelta(minutes=20)


def test_platform_times_are_read_as_shanghai_wall_clock(settings, sandbox):
    # The platform's times carry no zone and are GMT+8 (see the zoned_time kind for a time
    # that carries one).
    logistics_check(as_of=ANCHOR)
    with session_scope(settings.database_url) as session:
        stored = {o.tid: o for o in session.exec(select(Order))}
    trades = [t for t in sandbox.world.trades_of(SHOP) if str(t.tid) in stored][:50]
    assert trades
    for trade in trades:
        order = stored[str(trade.tid)]
        assert order.created_at == trade.created, "10:00 in Shanghai is 02:00 UTC"
        assert order.modified_at == trade.modified
        assert order.created_at.utcoffset() == timedelta(0)


def test_a_rating_stamped_in_the_future_is_refused_and_later_ratings_still_come_in(
    settings, sandbox
):
    url = settings.database_url
    ahead = plant(sandbox.world, "rating", shop=SHOP, nick="tb_ahead", hours_ahead=48)
    summary = bad_review_followups(as_of=ANCHOR)
    assert summary["rejected_ratings"] == 1
    assert "in the future" in rejects(url, "taobao.rating")[str(ahead["oid"])]
    expected = {
        str(r.oid)
        for r in sandbox.world.ratings.values()
        if ANCHOR - timedelta(days=settings.reviews.initial_sync_days) <= r.created <= ANCHOR
        and r.result_at(ANCHOR) in ("neutral", "bad")
        and r.oid != ahead["oid"]
    }
    with session_scope(url) as session:
        assert set(session.exec(select(Review.oid)).all()) == expected, "the rest came in"
        cursor = session.exec(
            select(SyncCursor.synced_until).where(SyncCursor.stream == "ratings")
        ).all()
    assert cursor and max(cursor) <= ANCHOR

    later = ANCHOR + timedelta(hours=2)
    sandbox.clock.set(ANCHOR + timedelta(hours=1))
    fresh = plant(sandbox.world, "rating", shop=SHOP, nick="tb_fresh")
    sandbox.clock.set(later)
    bad_review_followups(as_of=later)
    with session_scope(url) as session:
        oids = set(session.exec(select(Review.oid)).all())
    assert str(fresh["oid"]) in oids and str(ahead["oid"]) not in oids


@pytest.mark.parametrize("when", ["1970-01-01 08:00:00", "2100-01-01 00:00:00"])
def test_implausible_pay_and_ship_times_are_refused_with_their_reason(settings, sandbox, when):
    planted = plant(sandbox.world, "implausible_time", shop=SHOP, when=when)
    tid = str(planted["tid"])
    summary = logistics_check(as_of=ANCHOR)
    assert summary["chunks_failed"] == 0
    reason = rejects(settings.database_url, "taobao.trade")[tid]
    assert ("before Taobao existed" if when < "2003" else "in the future") in reason
    assert tid not in stored_tids(settings.database_url), "no instant lost-parcel case"
    with session_scope(settings.database_url) as session:
        assert not session.exec(
            select(Shipment).where(Shipment.waybill == planted["waybill"])
        ).all()


def test_an_order_shipped_without_a_waybill_opens_a_case_once(settings, sandbox):
    planted = plant(sandbox.world, "no_waybill", shop=SHOP)
    logistics_check(as_of=ANCHOR)
    logistics_check(as_of=ANCHOR + timedelta(minutes=30))
    with session_scope(settings.database_url) as session:
        cases = session.exec(
            select(AfterSalesCase)
            .join(Order, Order.id == AfterSalesCase.order_id)  # type: ignore[arg-type]
            .where(Order.tid == str(planted["tid"]))
        ).all()
    assert [(c.kind, c.state, c.next_action) for c in cases] == [
        ("shipped_without_waybill", "open", "ask_warehouse_for_waybill")
    ]
    assert "没有运单号" in cases[0].summary


def test_a_sub_state_as_the_top_level_state_is_read_not_failed_and_noted(settings, sandbox):
    planted = plant(sandbox.world, "advanced_state", shop=SHOP)
    logistics_check(as_of=ANCHOR)
    shipment, _ = shipment_and_cases(settings.database_url, planted["waybill"])
    assert shipment.check_error is None and shipment.status == "in_transit"
    assert shipment.courier_state == 0 and shipment.event_count == 2
    notes = rejects(settings.database_url, "kuaidi100.state")
    assert "read as state 0" in notes[f"yuantong/{planted['waybill']}"]


def test_a_courier_name_no_table_lists_is_recognised_by_kuaidi100_and_tracked(settings, sandbox):
    planted = plant(sandbox.world, "unlisted_courier", shop=SHOP)
    logistics_check(as_of=ANCHOR)
    shipment, cases = shipment_and_cases(settings.database_url, planted["waybill"])
    assert shipment.courier_name == "圆通快运物流有限公司" and shipment.courier == "yuantong"
    assert shipment.check_error is None and shipment.event_count == 2
    assert shipment.status == "in_transit" and "untrackable" not in cases
