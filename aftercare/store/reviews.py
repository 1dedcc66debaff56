"""Reviews and their follow-up cases: saving ratings, opening cases, the work lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from aftercare.clients.taobao_ratings import RatingRecord
from aftercare.rules.anomalies import AnomalyKind
from aftercare.rules.tracking import ShipmentStatus
from aftercare.store.outbox import cancel_for_cases
from models import AfterSalesCase, CaseEvent, Customer, Order, Review, Shipment, Shop
from models.db import claim, insert_ignore, upsert

KIND = "review"
NEGATIVE = ("neutral", "bad")
LOGISTICS_KINDS = tuple(k.value for k in AnomalyKind)


def save_ratings(
    *, session: Session, shop_id: int, ratings: tuple[RatingRecord, ...], now: datetime
) -> int:
    """Upsert ratings (the current result, follow-up review and reply); return how many are new."""
    if not ratings:
        return 0
    orders = dict(
        session.exec(
            select(Order.tid, Order.id).where(
                Order.shop_id == shop_id, col(Order.tid).in_({r.tid for r in ratings})
            )
        ).all()
    )
    existing = set(
        session.exec(
            select(Review.oid).where(
                Review.shop_id == shop_id, col(Review.oid).in_({r.oid for r in ratings})
            )
        ).all()
    )
    rows = [
        {
            "shop_id": shop_id,
            "order_id": orders.get(r.tid),
            "tid": r.tid,
            "oid": r.oid,
            "buyer_nick": r.buyer_nick[:100],
            "result": r.result,
            "first_result": r.result,
            "content": r.content,
            "item_title": r.item_title[:200],
            "rated_at": r.created,
            "append_content": r.append_content,
            "append_at": r.append_created,
            "reply": r.reply,
            "first_seen_at": now,
            "updated_at": now,
        }
        for r in {r.oid: r for r in ratings}.values()
    ]
    upsert(
        session,
        Review,
        rows,
        keys=["shop_id", "oid"],
        update=[
            "order_id",
            "result",
            "content",
            "append_content",
            "append_at",
            "reply",
            "updated_at",
        ],
    )
    return len({row["oid"] for row in rows} - existing)


@dataclass(frozen=True, slots=True)
class ReviewToOpen:
    """A neutral or bad review with no case yet, and the facts of its order."""

    review: Review
    shop_code: str
    shop_name: str
    shop_timezone: str | None
    phone: str | None
    phone_masked: bool
    customer_id: int | None
    had_logistics_case: bool
    had_other_case: bool
    oaid: str | None = None


def reviews_without_case(*, session: Session, limit: int) -> list[ReviewToOpen]:
    """Return neutral and bad reviews that have no follow-up case yet."""
    reviews = session.exec(
        select(Review, Shop)
        .join(Shop, col(Shop.id) == Review.shop_id)
        .outerjoin(AfterSalesCase, col(AfterSalesCase.review_id) == Review.id)
        .where(col(Review.first_result).in_(NEGATIVE), col(AfterSalesCase.id).is_(None))
        .order_by(col(Review.rated_at))
        .limit(limit)
    ).all()
    order_ids = {r.order_id for r, _ in reviews if r.order_id}
    orders = {o.id: o for o in session.exec(select(Order).where(col(Order.id).in_(order_ids)))}
    kinds: dict[int, set[str]] = {}
    for order_id, kind in session.exec(
        select(AfterSalesCase.order_id, AfterSalesCase.kind).where(
            col(AfterSalesCase.order_id).in_(order_ids)
        )
    ).all():
        kinds.setdefault(order_id or 0, set()).add(kind)
    found = []
    for review, shop in reviews:
        order = orders.get(review.order_id) if review.order_id else None
        order_kinds = kinds.get(review.order_id or 0, set())
        found.append(
            ReviewToOpen(
                review=review,
                shop_code=shop.code,
                shop_name=shop.name,
                shop_timezone=shop.timezone,
                phone=order.receiver_phone if order else None,
                phone_masked=order.phone_masked if order else False,
                oaid=order.oaid if order else None,
                customer_id=order.customer_id if order else None,
                had_logistics_case=bool(order_kinds & set(LOGISTICS_KINDS)),
                had_other_case=bool(order_kinds - set(LOGISTICS_KINDS) - {KIND}),
            )
        )
    return found


def case_row(
    item: ReviewToOpen,
    *,
    cause: str,
    summary: str,
    first_contact: datetime,
    deadline: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The row of a new review case, keyed so a review opens one case only."""
    return {
        "case_key": f"review:{item.shop_code}:{item.review.oid}",
        "shop_id": item.review.shop_id,
        "order_id": item.review.order_id,
        "review_id": item.review.id,
        "kind": KIND,
        "severity": "serious" if item.review.first_result == "bad" else "minor",
        "state": "open",
        "cause": cause,
        "next_action": "first_contact",
        "next_action_at": first_contact,
        "deadline_at": deadline,
        "summary": summary,
        "opened_at": now,
        "updated_at": now,
    }


def open_cases(*, session: Session, rows: list[dict[str, Any]], now: datetime) -> dict[int, int]:
    """Insert review cases (one per review, never two) with their first history entry.

    Returns the case id by review id for the cases this call opened.
    """
    new_ids = insert_ignore(session, AfterSalesCase, rows, keys=["case_key"])
    opened = {
        review_id: case_id
        for review_id, case_id in session.exec(
            select(AfterSalesCase.review_id, AfterSalesCase.id).where(
                col(AfterSalesCase.id).in_(new_ids)
            )
        ).all()
        if review_id is not None and case_id is not None
    }
    if opened:
        session.execute(
            CaseEvent.__table__.insert(),  # type: ignore[attr-defined]
            [
                {"case_id": case_id, "at": now, "action": "opened", "actor": "system", "note": ""}
                for case_id in opened.values()
            ],
        )
    return opened


@dataclass(frozen=True, slots=True)
class OpenReviewCase:
    """An open review case with its rating as last synced."""

    case: AfterSalesCase
    review: Review
    shop_code: str
    shop_timezone: str | None


def open_review_cases(*, session: Session, shop_id: int | None = None) -> list[OpenReviewCase]:
    """Return every open review case (of one shop, if given) with its review."""
    query = (
        select(AfterSalesCase, Review, Shop)
        .join(Review, col(Review.id) == AfterSalesCase.review_id)
        .join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
        .where(AfterSalesCase.kind == KIND, AfterSalesCase.state == "open")
        .order_by(col(AfterSalesCase.id))
    )
    if shop_id is not None:
        query = query.where(AfterSalesCase.shop_id == shop_id)
    return [OpenReviewCase(c, r, s.code, s.timezone) for c, r, s in session.exec(query).all()]


def close_case(
    *, session: Session, case_id: int, reason: str, now: datetime, note: str = ""
) -> bool:
    """Close an open case with its reason and a history entry; False if it was not open."""
    closed = session.execute(
        update(AfterSalesCase)
        .where(col(AfterSalesCase.id) == case_id, col(AfterSalesCase.state) == "open")
        .values(
            state="closed",
            closed_at=now,
            close_reason=reason,
            next_action=None,
            next_action_at=None,
            updated_at=now,
        )
    ).rowcount  # type: ignore[attr-defined]
    if closed:
        session.add(CaseEvent(case_id=case_id, at=now, action="closed", note=note or reason))
        cancel_for_cases(
            session=session,
            case_ids=[case_id],
            reason=f"its case was closed before it was sent ({reason})",
            now=now,
        )
    return bool(closed)


def record_reply(*, session: Session, review_id: int, reply: str, now: datetime) -> None:
    """Remember the explanation the shop posted."""
    session.execute(
        update(Review).where(col(Review.id) == review_id).values(reply=reply, updated_at=now)
    )


def explanation_facts(*, session: Session, case: AfterSalesCase) -> dict[str, Any]:
    """Return what is on record for a review case's public explanation (see rules.explanations).

    Parcel facts come from its shipment; contact and compensation from the case's history;
    "nothing wrong" needs a delivered parcel and no other after-sales case on the order.
    """
    facts: dict[str, Any] = {}
    outcomes = set(
        session.exec(
            select(CaseEvent.action).where(
                CaseEvent.case_id == case.id, col(CaseEvent.action).startswith("contact:")
            )
        ).all()
    )
    reached = outcomes - {"contact:unreachable"}
    facts["contacted"] = bool(reached)
    facts["compensated"] = "contact:compensation_accepted" in outcomes
    if case.order_id is None:
        return facts
    shipment = session.exec(
        select(Shipment).where(Shipment.order_id == case.order_id).order_by(col(Shipment.id))
    ).first()
    if shipment is None:
        return facts
    delivered = shipment.status == ShipmentStatus.DELIVERED and shipment.delivered_at
    facts.update(
        courier=shipment.courier_name,
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at if delivered else None,
    )
    others = session.exec(
        select(AfterSalesCase.id).where(
            AfterSalesCase.order_id == case.order_id, AfterSalesCase.id != case.id
        )
    ).first()
    facts["nothing_wrong"] = bool(delivered) and others is None
    return facts


def buyer_nicks(*, session: Session, customer_ids: set[int]) -> dict[int, str]:
    """Return buyer nicks by customer id."""
    rows = session.exec(
        select(Customer.id, Customer.buyer_nick).where(col(Customer.id).in_(customer_ids))
    ).all()
    return {cid: nick for cid, nick in rows if cid is not None}


def claim_alerts(*, session: Session, case_ids: list[int], now: datetime) -> set[int]:
    """Take the cases no other run has told staff about yet, marking them alerted now."""
    due = col(AfterSalesCase.alerted_at).is_(None)
    return set(
        claim(
            session,
            AfterSalesCase,
            candidates=select(AfterSalesCase.id).where(col(AfterSalesCase.id).in_(case_ids), due),
            due=due,
            values={"alerted_at": now},
        )
    )


def release_alerts(*, session: Session, case_ids: list[int], now: datetime) -> None:
    """Give back cases whose alert could not be posted, for the next run to alert."""
    session.execute(
        update(AfterSalesCase)
        .where(col(AfterSalesCase.id).in_(case_ids), col(AfterSalesCase.alerted_at) == now)
        .values(alerted_at=None)
    )


def is_open_review_case(*, session: Session, case_id: int) -> bool:
    """Tell whether the id is a review case still open (what a follow-up can be recorded on)."""
    found = session.exec(
        select(AfterSalesCase.id).where(
            AfterSalesCase.id == case_id,
            col(AfterSalesCase.review_id).is_not(None),
            AfterSalesCase.state == "open",
        )
    ).first()
    return found is not None


def order_phones(*, session: Session, order_ids: set[int]) -> dict[int, str | None]:
    """The receiver phone of each order (for the call list; masked before it is shown)."""
    if not order_ids:
        return {}
    rows = session.exec(
        select(Order.id, Order.receiver_phone).where(col(Order.id).in_(order_ids))
    ).all()
    return {order_id: phone for order_id, phone in rows if order_id is not None}


def cases_opened_since(
    *, session: Session, since: datetime
) -> tuple[list[tuple[AfterSalesCase, Review]], int]:
    """Review cases opened since a moment with their reviews, and how many were explained."""
    rows = session.exec(
        select(AfterSalesCase, Review)
        .join(Review, col(Review.id) == AfterSalesCase.review_id)
        .where(AfterSalesCase.kind == KIND, col(AfterSalesCase.opened_at) >= since)
    ).all()
    explained = session.exec(
        select(func.count()).where(
            AfterSalesCase.kind == KIND,
            AfterSalesCase.close_reason == "explained",
            col(AfterSalesCase.closed_at) >= since,
        )
    ).one()
    return [(case, review) for case, review in rows], explained
