"""Refunds stored by version (never backwards), and the ones whose timer needs watching."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from aftercare.clients.taobao_refunds import RefundRecord
from aftercare.rules.refunds import (
    OPEN,
    SELLER_TURN,
    WAIT_SELLER_AGREE,
    classify,
    decided_by_timer,
)
from models import Order, Refund, Shop
from models.db import upsert


def save_refunds(
    *, session: Session, shop_id: int, refunds: tuple[RefundRecord, ...], now: datetime
) -> Counter[str]:
    """Store each refund unless what is stored is newer; count new, changed, older, timed out."""
    counts: Counter[str] = Counter()
    if not refunds:
        return counts
    ids = [r.refund_id for r in refunds]
    stored = {
        row.refund_id: row
        for row in session.exec(
            select(Refund).where(Refund.shop_id == shop_id, col(Refund.refund_id).in_(ids))
        )
    }
    orders = {
        tid: (order_id, consigned is not None)
        for tid, order_id, consigned in session.exec(
            select(Order.tid, Order.id, Order.consigned_at).where(
                Order.shop_id == shop_id, col(Order.tid).in_({r.tid for r in refunds})
            )
        ).all()
    }
    rows: list[dict[str, Any]] = []
    for record in sorted(refunds, key=lambda r: r.version):
        before = stored.get(record.refund_id)
        if before is not None and record.version <= before.version:
            counts["older"] += record.version < before.version  # a late page: kept as it was
            continue
        timed_out = decided_by_timer(
            before.status if before else None,
            before.seller_deadline if before else None,
            record.status,
            record.modified,
        )
        counts["timed_out"] += timed_out and not (before and before.decided_by_timer)
        counts["new" if before is None else "changed"] += 1
        order_id, shipped = orders.get(record.tid, (None, None))
        rows.append(_row(shop_id, order_id, shipped, record, before, timed_out, now))
    if rows:
        # The newest version per refund only (a page may list one twice as it moves).
        newest = {row["refund_id"]: row for row in rows}
        upsert(
            session, Refund, list(newest.values()), keys=["shop_id", "refund_id"],
            update=[k for k in rows[0] if k not in ("shop_id", "refund_id")],
            only_if=lambda new: Refund.version < new.version,
        )  # fmt: skip
    return counts


def _row(
    shop_id: int,
    order_id: int | None,
    shipped: bool | None,
    r: RefundRecord,
    before: Refund | None,
    timed_out: bool,
    now: datetime,
) -> dict[str, Any]:
    if shipped is None:  # an order we do not have: the refund's own goods status tells
        shipped = r.good_status not in (None, "BUYER_NOT_RECEIVED") or r.has_good_return
    return {
        "shop_id": shop_id,
        "refund_id": r.refund_id,
        "tid": r.tid,
        "oid": r.oid,
        "order_id": order_id,
        "status": r.status[:40],
        "raw_status": r.raw_status and r.raw_status[:60],
        "kind": classify(r.reason, shipped).code,
        "has_good_return": r.has_good_return,
        "good_status": (r.good_status or None) and r.good_status[:40],
        "reason": r.reason[:200],
        "title": r.title[:120],
        "refund_fee": r.refund_fee,
        "created_at": r.created,
        "modified_at": r.modified,
        "version": r.version,
        "seller_deadline": r.seller_deadline,
        "return_company": (r.return_company or None) and r.return_company[:40],
        "return_waybill": r.return_waybill,
        "decided_by_timer": timed_out or bool(before and before.decided_by_timer),
        "synced_at": now,
    }


@dataclass(frozen=True, slots=True)
class WatchedRefund:
    """A refund waiting on the seller, with what staff need to act before its timer."""

    refund_id: str
    shop_code: str
    tid: str
    status: str
    kind: str
    refund_fee: str
    seller_deadline: datetime | None


def waiting_on_seller(*, session: Session, until: datetime) -> list[WatchedRefund]:
    """Refunds in the seller's turn whose deadline falls before `until` (soonest first)."""
    rows = session.exec(
        select(Refund, Shop.code)
        .join(Shop, col(Shop.id) == Refund.shop_id)
        .where(
            col(Refund.status).in_(SELLER_TURN),
            col(Refund.seller_deadline).is_not(None),
            col(Refund.seller_deadline) <= until,
        )
        .order_by(col(Refund.seller_deadline))
    ).all()
    return _watched(rows)


def refund_figures(*, session: Session) -> dict[str, Counter[str]]:
    """Refunds by kind and by status, and how many the platform's timer decided."""
    rows = session.exec(select(Refund.kind, Refund.status, Refund.decided_by_timer)).all()
    return {
        "by_kind": Counter(kind for kind, _, _ in rows),
        "by_status": Counter(status for _, status, _ in rows),
        "decided_by_timer": Counter(kind for kind, _, timed in rows if timed),
    }


def open_refunds(*, session: Session) -> list[WatchedRefund]:
    """Every refund still open (any status but closed and succeeded), soonest deadline first."""
    rows = session.exec(
        select(Refund, Shop.code)
        .join(Shop, col(Shop.id) == Refund.shop_id)
        .where(col(Refund.status).in_(OPEN))
        .order_by(col(Refund.seller_deadline).is_(None), col(Refund.seller_deadline))
    ).all()
    return _watched(rows)


def _watched(rows: Sequence[tuple[Refund, str]]) -> list[WatchedRefund]:
    return [
        WatchedRefund(
            r.refund_id, code, r.tid, r.status, r.kind, str(r.refund_fee), r.seller_deadline
        )
        for r, code in rows
    ]


def open_refunds_of(*, session: Session, order_ids: set[int]) -> dict[int, str]:
    """The open refund of each of these orders (the latest asked, where several are)."""
    if not order_ids:
        return {}
    rows = session.exec(
        select(Refund.order_id, Refund.refund_id)
        .where(col(Refund.order_id).in_(order_ids), col(Refund.status).in_(OPEN))
        .order_by(col(Refund.created_at))
    ).all()
    return {order_id: refund_id for order_id, refund_id in rows if order_id is not None}


@dataclass(frozen=True, slots=True)
class RefundToTell:
    """A new refund request, with what a message to its buyer needs."""

    refund_id: str
    kind: str
    tid: str
    shop_id: int
    shop_code: str
    shop_name: str
    sms_enabled: bool
    order_id: int
    customer_id: int
    phone: str | None
    phone_masked: bool
    oaid: str | None


def refunds_to_tell(*, session: Session, since: datetime) -> list[RefundToTell]:
    """Requests still waiting for the seller, asked since `since`, whose order we know."""
    rows = session.exec(
        select(Refund, Order, Shop)
        .join(Order, col(Order.id) == Refund.order_id)
        .join(Shop, col(Shop.id) == Refund.shop_id)
        .where(Refund.status == WAIT_SELLER_AGREE, col(Refund.created_at) >= since)
    ).all()
    return [
        RefundToTell(
            r.refund_id, r.kind, r.tid, r.shop_id, s.code, s.name, s.sms_enabled, o.id or 0,
            o.customer_id, o.receiver_phone, o.phone_masked, o.oaid,
        )
        for r, o, s in rows
    ]  # fmt: skip
