"""purge-personal-data: old orders lose their personal data, the facts for reports stay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import or_, update
from sqlmodel import select

from aftercare.store.contacts import remember_webhook
from aftercare.store.inbox import store_push
from aftercare.store.report import daily_figures
from aftercare.store.retention import ORDER_TABLES, STALE_REASON
from flows.bad_review_followups import bad_review_followups
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.purge_personal_data import purge_personal_data
from flows.unpaid_reminders import unpaid_order_reminders
from models import (
    AfterSalesCase,
    Customer,
    Order,
    OutboxMessage,
    Review,
    Shipment,
    TrackingPush,
    WebhookReceipt,
)
from models.db import session_scope
from tests.conftest import ANCHOR
from tests.support.evidence import findings, table_texts

pytestmark = pytest.mark.usefixtures("prefect_server")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def facts(url: str) -> dict[str, list[Any]]:
    """What reports need: counts, statuses, dates, amounts."""
    with session_scope(url) as session:
        return {
            "orders": sorted(
                session.exec(
                    select(Order.id, Order.status, Order.payment, Order.created_at, Order.province)
                ).all()
            ),
            "shipments": sorted(
                session.exec(
                    select(Shipment.id, Shipment.status, Shipment.delivered_at, Shipment.province)
                ).all()
            ),
            "cases": sorted(
                session.exec(
                    select(AfterSalesCase.id, AfterSalesCase.kind, AfterSalesCase.state)
                ).all()
            ),
            "outbox": sorted(
                session.exec(
                    select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.sent_at).where(
                        OutboxMessage.status != "pending",
                        or_(OutboxMessage.reason.is_(None), OutboxMessage.reason != STALE_REASON),  # type: ignore[union-attr]
                    )
                ).all()
            ),
            "reviews": sorted(
                session.exec(select(Review.id, Review.result, Review.rated_at)).all()
            ),
        }


def report_of_the_day(url: str) -> dict[str, Any]:
    start = datetime.combine(ANCHOR.astimezone(SHANGHAI).date(), datetime.min.time(), SHANGHAI)
    with session_scope(url) as session:
        return daily_figures(session=session, start=start, end=start + timedelta(days=1))


def personal(url: str) -> dict[int, tuple[Any, ...]]:
    with session_scope(url) as session:
        rows = session.exec(
            select(Order.id, Order.receiver_name, Order.receiver_phone, Order.city)
        ).all()
    return {i or 0: tuple(rest) for i, *rest in rows}


def open_case_orders(url: str) -> set[int]:
    with session_scope(url) as session:
        return {
            o
            for o in session.exec(
                select(AfterSalesCase.order_id).where(AfterSalesCase.state == "open")
            )
            if o
        }


def a_week_of_work(sandbox: Any, url: str) -> None:
    """Every pipeline once, a tracking push and a signed webhook call on file."""
    param = json.dumps(
        {"status": "polling", "lastResult": {"nu": "YT404", "com": "yuantong", "data": []}}
    )
    with session_scope(url) as session:
        store_push(session=session, param=param, now=ANCHOR)
        remember_webhook(session=session, source="sms_uplink", signature="ab" * 32, now=ANCHOR)
    logistics_check(as_of=ANCHOR)
    unpaid_order_reminders(as_of=ANCHOR)
    bad_review_followups(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)
    with session_scope(url) as session:  # the ratings were settled with the buyers
        session.execute(
            update(AfterSalesCase)
            .where(AfterSalesCase.kind == "review")  # type: ignore[arg-type]
            .values(state="closed", closed_at=ANCHOR, close_reason="recovered")
        )
        # One rating is of an order never synced (older than the first sync).
        review = session.exec(select(Review).order_by(Review.id)).first()  # type: ignore[arg-type]
        assert review is not None
        for model, key in ((Review, Review.id), (AfterSalesCase, AfterSalesCase.review_id)):
            session.execute(update(model).where(key == review.id).values(order_id=None))  # type: ignore[arg-type]


def purged_counts(summary: dict[str, int]) -> dict[str, int]:
    return {k.split(":", 1)[1]: v for k, v in summary.items() if ":" in k}


def test_old_orders_lose_personal_data_and_keep_their_facts(settings, sandbox):
    url = settings.database_url
    a_week_of_work(sandbox, url)
    facts_before, report_before, personal_before = facts(url), report_of_the_day(url), personal(url)
    kept = open_case_orders(url)
    with session_scope(url) as session:
        still_served = set(
            session.exec(
                select(Customer.phone).join(Order).where(Order.id.in_(kept))  # type: ignore[union-attr]
            )
        )
    assert kept and len(kept) < len(personal_before)

    # 100 days on: orders are within the year, raw records past their 30 days go.
    early = purge_personal_data(as_of=ANCHOR + timedelta(days=100))
    assert early["orders_expired"] == 0 and purged_counts(early)["orders"] == 0
    assert purged_counts(early)["outbox"] == 0
    assert purged_counts(early)["tracking_pushes"] == 1
    assert purged_counts(early)["webhook_receipts"] == 1
    assert purged_counts(early)["contact_gaps"] > 0, "frequency caps of last season go too"
    assert personal(url) == personal_before

    later = ANCHOR + timedelta(days=400)
    dry = purge_personal_data(as_of=later, dry_run=True)
    assert personal(url) == personal_before, "a dry run changes nothing"
    done = purge_personal_data(as_of=later)
    assert purged_counts(done) == purged_counts(dry), "the dry run said what the run did"
    print(f"purged after 400 days: {done}")

    after = personal(url)
    for order_id, data in after.items():
        if order_id in kept:
            assert data == personal_before[order_id], "an open case keeps its order's data"
        else:
            assert data == (None, None, None)
    assert done["orders_expired"] == len(personal_before) - len(kept)
    assert done["orders_kept_for_open_cases"] == len(kept)
    report = report_of_the_day(url)
    # The one message left pending a year is now held back, with the reason; the rest is as it was.
    assert report["held_back"].pop(STALE_REASON) == purged_counts(done)["outbox_stale"]
    assert facts(url) == facts_before and report == report_before

    with session_scope(url) as session:
        messages = session.exec(select(OutboxMessage)).all()
        finished = [m for m in messages if m.status in ("sent", "suppressed")]
        buyers = session.exec(select(Customer)).all()
        pushes = session.exec(select(TrackingPush)).all()
        reviews = session.exec(select(Review)).all()
        review_cases = session.exec(
            select(AfterSalesCase).where(AfterSalesCase.kind == "review")
        ).all()
        receipts = session.exec(select(WebhookReceipt)).all()
    assert finished and all(m.phone is None and m.text == "" for m in finished)
    assert all(c > 0 for t, c in purged_counts(done).items() if t in ORDER_TABLES)
    assert not [m for m in messages if m.status == "pending"], "stale messages are suppressed"
    assert any(b.buyer_nick.startswith("purged-") and b.phone is None for b in buyers)
    assert [p.param for p in pushes] == [""] and pushes[0].digest and receipts == []
    assert any(r.order_id is None for r in reviews), "a rating of an unsynced order was purged too"
    for r in reviews:
        assert (r.buyer_nick == "purged" and r.content == "") is (r.order_id not in kept)
    assert review_cases and all(c.summary == "" for c in review_cases if c.order_id not in kept)

    # No phone of a purged order is left anywhere, unless its buyer still has a case open.
    gone = {p for i, (_, p, _) in personal_before.items() if p and i not in kept}
    gone -= {p for i, (_, p, _) in personal_before.items() if p and i in kept}
    gone -= still_served
    left = findings(table_texts(url), {p: p for p in gone})
    assert gone and not left, left

    again = purge_personal_data(as_of=later)
    assert again["orders_expired"] == 0 and not any(purged_counts(again).values()), "idempotent"
