"""What operators look up: open cases and a buyer's or order's message history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from models import AfterSalesCase, CaseEvent, Order, OutboxMessage, Shop


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One case as the operator list shows it."""

    id: int
    shop: str
    kind: str
    severity: str
    state: str
    next_action: str | None
    next_action_at: datetime | None
    summary: str
    history: int


def cases(
    *, session: Session, kind: str | None, shop: str | None, state: str | None, limit: int
) -> list[CaseLine]:
    """List cases, most urgent first (by next action time)."""
    query = select(AfterSalesCase, Shop.code).join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
    if kind:
        query = query.where(AfterSalesCase.kind == kind)
    if shop:
        query = query.where(Shop.code == shop)
    if state:
        query = query.where(AfterSalesCase.state == state)
    rows = session.exec(
        query.order_by(
            col(AfterSalesCase.next_action_at).is_(None), col(AfterSalesCase.next_action_at)
        ).limit(limit)
    ).all()
    events: dict[int, int] = {}
    for event_case in session.exec(
        select(CaseEvent.case_id).where(col(CaseEvent.case_id).in_([c.id for c, _ in rows]))
    ).all():
        events[event_case] = events.get(event_case, 0) + 1
    return [
        CaseLine(
            case.id or 0,
            code,
            case.kind,
            case.severity,
            case.state,
            case.next_action,
            case.next_action_at,
            case.summary,
            events.get(case.id or 0, 0),
        )
        for case, code in rows
    ]


def message_history(
    *, session: Session, phone: str | None, tid: str | None, key: str | None, limit: int
) -> list[OutboxMessage]:
    """Every message to a phone, about an order, or under a key, newest first."""
    query = select(OutboxMessage)
    if phone:
        query = query.where(OutboxMessage.phone == phone)
    if tid:
        query = query.where(
            col(OutboxMessage.order_id).in_(select(Order.id).where(Order.tid == tid))
        )
    if key:
        query = query.where(OutboxMessage.idempotency_key == key)
    return list(
        session.exec(query.order_by(col(OutboxMessage.created_at).desc()).limit(limit)).all()
    )
