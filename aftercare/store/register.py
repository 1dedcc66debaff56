"""The problem register: filled from refunds and lost-parcel cases, once each."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from aftercare.rules.register import LOST, Entry, answerable
from models import (
    AfterSalesCase,
    Order,
    OrderItem,
    Refund,
    RegisteredProblem,
    Shipment,
    Shop,
)
from models.db import insert_ignore

# Cases that mean the parcel is lost in practice (no information for weeks).
LOST_CASES = ("expired",)


def _couriers() -> Any:
    return (
        select(Shipment.order_id, func.max(Shipment.courier_name).label("courier"))
        .group_by(col(Shipment.order_id))
        .subquery()
    )


def register_problems(*, session: Session, now: datetime) -> int:
    """Register every refund and lost-parcel case not registered yet; return how many."""
    couriers = _couriers()
    registered = select(RegisteredProblem.source_id).where(RegisteredProblem.source == "refund")
    refunds = session.exec(
        select(Refund, couriers.c.courier)
        .outerjoin(couriers, couriers.c.order_id == Refund.order_id)
        .where(col(Refund.refund_id).not_in(registered))
    ).all()
    rows = [
        _row(
            r.shop_id,
            "refund",
            r.refund_id,
            r.kind,
            r.tid,
            r.title,
            r.refund_fee,
            r.reason,
            answerable(r.kind, courier),
            r.created_at,
            now,
        )
        for r, courier in refunds
    ]
    items = (
        select(OrderItem.order_id, func.min(OrderItem.title).label("title"))
        .group_by(col(OrderItem.order_id))
        .subquery()
    )
    cases = session.exec(
        select(AfterSalesCase, Order, Shipment.courier_name, items.c.title)
        .join(Order, col(Order.id) == AfterSalesCase.order_id)
        .join(Shipment, col(Shipment.id) == AfterSalesCase.shipment_id)
        .outerjoin(items, items.c.order_id == Order.id)
        .where(col(AfterSalesCase.kind).in_(LOST_CASES))
    ).all()
    # The lost parcels a buyer's refund registered already: looked up for these orders only.
    lost_refunds = {r.tid for r, _ in refunds if r.kind == LOST} | set(
        session.exec(
            select(RegisteredProblem.tid).where(
                RegisteredProblem.kind == LOST,
                col(RegisteredProblem.tid).in_({order.tid for _, order, _, _ in cases}),
            )
        ).all()
    )
    rows += [
        _row(
            case.shop_id,
            "case",
            str(case.id),
            LOST,
            order.tid,
            title or "",
            order.payment,
            case.summary[:200],
            courier,
            case.opened_at,
            now,
        )
        for case, order, courier, title in cases
        if order.tid not in lost_refunds  # the buyer's refund registered it already
    ]
    keys = ["shop_id", "source", "source_id"]
    return len(insert_ignore(session, RegisteredProblem, rows, keys=keys)) if rows else 0


def _row(
    shop_id: int, source: str, source_id: str, kind: str, tid: str, item: str, amount: Any,
    reason: str, who: str | None, occurred_at: datetime, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    return {
        "shop_id": shop_id, "source": source, "source_id": source_id[:40], "kind": kind,
        "tid": tid, "item": (item or "")[:120], "amount": amount, "reason": (reason or "")[:200],
        "answerable": who and who[:60], "occurred_at": occurred_at, "registered_at": now,
    }  # fmt: skip


def entries_since(*, session: Session, since: datetime) -> list[Entry]:
    """The registered problems that occurred since `since`, for the summaries."""
    rows = session.exec(
        select(RegisteredProblem).where(col(RegisteredProblem.occurred_at) >= since)
    ).all()
    return [
        Entry(r.kind, r.item, r.amount, r.answerable, r.occurred_at, len(r.photos.split()))
        for r in rows
    ]


MAX_PHOTOS = 9


def add_photo(*, session: Session, shop: str, refund_id: str, link: str) -> int:
    """Keep a photo's link with a registered refund; return how many it has. ValueError when
    the refund is not registered, the link is not one, or it has enough already."""
    if not re.fullmatch(r"https?://[^\s]{4,300}", link):
        raise ValueError(f"not a photo link: {link[:60]!r} (http(s)://...)")
    row = session.exec(
        select(RegisteredProblem)
        .join(Shop, col(Shop.id) == RegisteredProblem.shop_id)
        .where(Shop.code == shop, RegisteredProblem.source == "refund",
               RegisteredProblem.source_id == refund_id)
    ).first()  # fmt: skip
    if row is None:
        raise ValueError(f"refund {refund_id} of {shop} is not in the register (run a sync?)")
    photos = [p for p in row.photos.splitlines() if p]
    if link not in photos:
        if len(photos) >= MAX_PHOTOS:
            raise ValueError(f"refund {refund_id} has {MAX_PHOTOS} photos already")
        photos.append(link)
        row.photos = "\n".join(photos)
        session.add(row)
    return len(photos)
