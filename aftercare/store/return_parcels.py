"""Return parcels: noted from refunds with a return waybill, checked while on their way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from aftercare.rules.refunds import OPEN
from models import Refund, ReturnParcel, Shop
from models.db import insert_ignore


@dataclass(frozen=True, slots=True)
class ReturnToCheck:
    """A return parcel due for a check, with what its alerts name."""

    id: int
    shop_code: str
    refund_id: str
    tid: str
    courier_name: str
    waybill: str
    phone: str | None  # the shop receives it: its number passes the couriers' phone check
    seen_at: datetime
    status: str
    event_count: int
    last_event_at: datetime | None
    check_failures: int
    refund_status: str
    seller_deadline: datetime | None


def note_returns(*, session: Session, now: datetime) -> int:
    """Start tracking each open refund's return waybill (once); return how many are new."""
    rows = session.exec(
        select(
            Refund.shop_id, Refund.refund_id, Refund.return_company, Refund.return_waybill
        ).where(col(Refund.return_waybill).is_not(None), col(Refund.status).in_(OPEN))
    ).all()
    fresh = [
        {
            "shop_id": shop_id,
            "refund_id": refund_id,
            "courier_name": company or "",
            "waybill": waybill,
            "status": "pending",
            "event_count": 0,
            "check_failures": 0,
            "seen_at": now,
            "next_check_at": now,
        }
        for shop_id, refund_id, company, waybill in rows
    ]
    return len(insert_ignore(session, ReturnParcel, fresh, keys=["shop_id", "refund_id"]))


def due_returns(*, session: Session, now: datetime, limit: int) -> list[ReturnToCheck]:
    """Return parcels whose check is due, the longest waiting first."""
    rows = session.exec(
        select(ReturnParcel, Shop.code, Shop.sender_phone, Refund)
        .join(Shop, col(Shop.id) == ReturnParcel.shop_id)
        .join(
            Refund,
            (col(Refund.shop_id) == ReturnParcel.shop_id)
            & (col(Refund.refund_id) == ReturnParcel.refund_id),
        )
        .where(col(ReturnParcel.next_check_at) <= now)
        .order_by(col(ReturnParcel.next_check_at))
        .limit(limit)
    ).all()
    return [
        ReturnToCheck(
            p.id or 0, code, p.refund_id, r.tid, p.courier_name, p.waybill, phone, p.seen_at,
            p.status, p.event_count, p.last_event_at, p.check_failures, r.status,
            r.seller_deadline,
        )
        for p, code, phone, r in rows
    ]  # fmt: skip


def record_return(*, session: Session, parcel_id: int, values: dict[str, object]) -> None:
    """Write what a check found (status, scans, failures, the next check)."""
    session.execute(update(ReturnParcel).where(col(ReturnParcel.id) == parcel_id).values(**values))
