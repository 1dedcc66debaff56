"""Purging personal data past its retention period; the non-personal facts stay for reports."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, delete, exists, func, literal, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from aftercare.rules.retention import FINISHED_MESSAGES, OrderActivity
from models import (
    AfterSalesCase,
    CaseEvent,
    ContactGap,
    ContactSlot,
    Customer,
    Order,
    OutboxMessage,
    OutboxStatus,
    PlatformMessage,
    RejectedRecord,
    Review,
    Shipment,
    StaffAlert,
    TrackingEvent,
    TrackingPush,
    WebhookReceipt,
)

PURGED = "purged"
ORDER_TABLES = ("orders", "shipments", "tracking_events", "reviews", "cases", "case_events")
STALE_REASON = "never sent within the retention period; personal data purged"


def _purge(
    session: Session, model: type[SQLModel], where: Any, values: dict[str, Any] | None, dry: bool
) -> int:
    """Blank columns (or delete rows, values None) where the condition holds; return how many."""
    if dry:
        return int(session.exec(select(func.count()).select_from(model).where(where)).one())
    statement = delete(model) if values is None else update(model).values(**values)
    result = session.execute(statement.where(where).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _open_case(order_id: Any) -> Any:
    return exists().where(
        col(AfterSalesCase.order_id) == order_id, col(AfterSalesCase.state) == "open"
    )


def orders_with_personal_data(
    *, session: Session, before: datetime, after_id: int, limit: int
) -> list[OrderActivity]:
    """Read, by id, orders not changed since `before` that still hold personal data."""
    rows = session.exec(
        select(Order.id, Order.modified_at, Order.ended_at, _open_case(Order.id))
        .where(
            col(Order.id) > after_id,
            col(Order.modified_at) < before,
            or_(
                col(Order.receiver_name).is_not(None),
                col(Order.receiver_phone).is_not(None),
                col(Order.oaid).is_not(None),
                col(Order.city).is_not(None),
            ),
        )
        .order_by(col(Order.id))
        .limit(limit)
    ).all()
    return [OrderActivity(i or 0, m, e, int(bool(o))) for i, m, e, o in rows]


def purge_orders(*, session: Session, order_ids: list[int], dry: bool) -> Counter[str]:
    """Blank what identifies the buyer in these orders, their parcels, reviews and cases."""
    if not order_ids:
        return Counter(dict.fromkeys(ORDER_TABLES, 0))
    shipments = select(Shipment.id).where(col(Shipment.order_id).in_(order_ids))
    cases = select(AfterSalesCase.id).where(col(AfterSalesCase.order_id).in_(order_ids))
    ours = col(Order.id).in_(order_ids)
    return Counter(
        {
            "orders": _purge(
                session,
                Order,
                and_(
                    ours,
                    or_(
                        col(Order.receiver_name).is_not(None),
                        col(Order.receiver_phone).is_not(None),
                        col(Order.oaid).is_not(None),
                        col(Order.city).is_not(None),
                    ),
                ),
                {"receiver_name": None, "receiver_phone": None, "oaid": None, "city": None},
                dry,
            ),
            "shipments": _purge(
                session,
                Shipment,
                and_(col(Shipment.order_id).in_(order_ids), col(Shipment.city).is_not(None)),
                {"city": None},
                dry,
            ),
            # Courier scans name couriers and signers and carry their phone numbers.
            "tracking_events": _purge(
                session,
                TrackingEvent,
                and_(
                    col(TrackingEvent.shipment_id).in_(shipments), col(TrackingEvent.context) != ""
                ),
                {"context": ""},
                dry,
            ),
            "reviews": _purge(
                session,
                Review,
                and_(col(Review.order_id).in_(order_ids), _review_personal()),
                {"buyer_nick": PURGED, "content": "", "append_content": None},
                dry,
            ),
            "cases": _purge(
                session,
                AfterSalesCase,
                and_(
                    col(AfterSalesCase.order_id).in_(order_ids), col(AfterSalesCase.summary) != ""
                ),
                {"summary": ""},
                dry,
            ),
            # Agents' notes of calls with the buyer.
            "case_events": _purge(
                session,
                CaseEvent,
                and_(col(CaseEvent.case_id).in_(cases), col(CaseEvent.note) != ""),
                {"note": ""},
                dry,
            ),
        }
    )


def _review_personal() -> Any:
    return or_(
        col(Review.buyer_nick) != PURGED,
        col(Review.content) != "",
        col(Review.append_content).is_not(None),
    )


def purge_customers(*, session: Session, before: datetime, dry: bool) -> Counter[str]:
    """Pseudonymise buyers neither updated nor ordering since `before`, with no case open."""
    recent_order = exists().where(
        col(Order.customer_id) == col(Customer.id),
        or_(col(Order.modified_at) >= before, _open_case(Order.id)),
    )
    where = and_(
        col(Customer.updated_at) < before,
        ~recent_order,
        or_(
            col(Customer.name).is_not(None),
            col(Customer.phone).is_not(None),
            col(Customer.birthday).is_not(None),
            col(Customer.tags) != "",
            ~col(Customer.buyer_nick).startswith(f"{PURGED}-"),
        ),
    )
    values = {
        # The buyer id is the customer's key in its shop: a pseudonym keeps it unique.
        "buyer_nick": literal(f"{PURGED}-").concat(cast(col(Customer.id), String)),
        "buyer_id": literal(f"{PURGED}-").concat(cast(col(Customer.id), String)),
        "name": None,
        "phone": None,
        "birthday": None,
        "tags": "",
        "marketing_consent": False,
    }
    return Counter({"customers": _purge(session, Customer, where, values, dry)})


def purge_unlinked(*, session: Session, before: datetime, dry: bool) -> Counter[str]:
    """Blank finished messages, and ratings of unsynced orders with their cases, before then."""
    messages = and_(
        col(OutboxMessage.created_at) < before,
        col(OutboxMessage.status).in_(FINISHED_MESSAGES),
        or_(
            col(OutboxMessage.phone).is_not(None),
            col(OutboxMessage.oaid).is_not(None),
            col(OutboxMessage.text) != "",
            col(OutboxMessage.params) != "{}",
        ),
    )
    # Ratings of orders never synced: their own age counts, and their cases go with them.
    other = aliased(AfterSalesCase)
    unlinked = and_(
        col(Review.order_id).is_(None),
        col(Review.updated_at) < before,
        ~exists().where(col(other.review_id) == col(Review.id), col(other.state) == "open"),
    )
    reviews = and_(unlinked, _review_personal())
    review_cases = select(AfterSalesCase.id).where(
        col(AfterSalesCase.order_id).is_(None),
        col(AfterSalesCase.review_id).in_(select(Review.id).where(unlinked)),
    )
    # A message still pending after the whole retention period will never be worth sending.
    stale = and_(
        col(OutboxMessage.created_at) < before, col(OutboxMessage.status) == OutboxStatus.PENDING
    )
    blank = {"phone": None, "oaid": None, "text": "", "params": "{}"}
    return Counter(
        {
            "outbox_stale": _purge(
                session,
                OutboxMessage,
                stale,
                blank | {"status": OutboxStatus.SUPPRESSED, "reason": STALE_REASON},
                dry,
            ),
            "outbox": _purge(session, OutboxMessage, messages, blank, dry),
            "reviews": _purge(
                session,
                Review,
                reviews,
                {"buyer_nick": PURGED, "content": "", "append_content": None},
                dry,
            ),
            "cases": _purge(
                session,
                AfterSalesCase,
                and_(col(AfterSalesCase.id).in_(review_cases), col(AfterSalesCase.summary) != ""),
                {"summary": ""},
                dry,
            ),
            "case_events": _purge(
                session,
                CaseEvent,
                and_(col(CaseEvent.case_id).in_(review_cases), col(CaseEvent.note) != ""),
                {"note": ""},
                dry,
            ),
        }
    )


def purge_raw_records(*, session: Session, before: datetime, dry: bool) -> Counter[str]:
    """Blank processed pushes and delete webhook receipts, rejects and contact caps before then."""
    pushes = and_(
        col(TrackingPush.processed_at).is_not(None),
        col(TrackingPush.received_at) < before,
        col(TrackingPush.param) != "",
    )
    return Counter(
        {
            # The digest stays: a replay of a purged push is still recognised.
            "tracking_pushes": _purge(session, TrackingPush, pushes, {"param": ""}, dry),
            # The message id stays: a redelivery of a purged message is still recognised.
            "platform_messages": _purge(
                session,
                PlatformMessage,
                and_(
                    col(PlatformMessage.applied_at).is_not(None),
                    col(PlatformMessage.received_at) < before,
                    col(PlatformMessage.content) != "",
                ),
                {"content": ""},
                dry,
            ),
            "webhook_receipts": _purge(
                session, WebhookReceipt, col(WebhookReceipt.received_at) < before, None, dry
            ),
            "rejected_records": _purge(
                session, RejectedRecord, col(RejectedRecord.last_seen_at) < before, None, dry
            ),
            "contact_slots": _purge(
                session, ContactSlot, col(ContactSlot.day) < before.date(), None, dry
            ),
            "contact_gaps": _purge(
                session, ContactGap, col(ContactGap.last_at) < before, None, dry
            ),
            # Posted alerts quote (masked) buyers and their words: kept for days, not a year.
            "staff_alerts": _purge(
                session,
                StaffAlert,
                and_(col(StaffAlert.status) == "posted", col(StaffAlert.posted_at) < before),
                None,
                dry,
            ),
        }
    )


def last_order_id(*, session: Session) -> int:
    """Return the highest order id (0 without orders)."""
    return int(session.exec(select(func.coalesce(func.max(Order.id), 0))).one() or 0)
