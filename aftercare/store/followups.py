"""An agent's contact with a buyer on a review case: the facts it needs, and its record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from models import AfterSalesCase, CaseEvent, Order, Review, Shop


@dataclass(frozen=True, slots=True)
class FollowupFacts:
    """An open review case, locked for the outcome being recorded."""

    case: AfterSalesCase
    review: Review
    shop: Shop
    order: Order | None
    unreachable_before: int


def open_followup(*, session: Session, case_id: int) -> FollowupFacts | None:
    """Lock an open review case and load what recording an outcome needs; None if not open."""
    row = session.exec(
        select(AfterSalesCase, Review, Shop)
        .join(Review, col(Review.id) == AfterSalesCase.review_id)
        .join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
        .where(AfterSalesCase.id == case_id)
        .with_for_update()
    ).first()
    if row is None or row[0].state != "open":
        return None
    case, review, shop = row
    unreachable = session.exec(
        select(func.count()).where(
            CaseEvent.case_id == case_id, CaseEvent.action == "contact:unreachable"
        )
    ).one()
    order = session.get(Order, review.order_id) if review.order_id else None
    return FollowupFacts(case, review, shop, order, unreachable)


def record_followup(
    *,
    session: Session,
    case: AfterSalesCase,
    outcome: str,
    declines: int,
    next_action: str,
    next_at: datetime,
    agent: str,
    note: str,
    now: datetime,
) -> None:
    """Write the outcome, the next step and one history line for the case."""
    session.execute(
        update(AfterSalesCase)
        .where(col(AfterSalesCase.id) == case.id)
        .values(
            last_outcome=outcome,
            contact_attempts=case.contact_attempts + 1,
            declines=declines,
            next_action=next_action,
            next_action_at=next_at,
            updated_at=now,
        )
    )
    session.add(
        CaseEvent(
            case_id=case.id or 0,
            at=now,
            action=f"contact:{outcome}",
            actor=agent[:60],
            note=f"{note}｜next: {next_action} {next_at:%Y-%m-%d %H:%M} UTC",
        )
    )
