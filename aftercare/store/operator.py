"""What operators look up: open cases, message histories, the buyers to reach by chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from aftercare.rules.notices import IM_HANDOFF
from models import AfterSalesCase, CaseEvent, Customer, Order, OutboxMessage, Shop


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


@dataclass(frozen=True, slots=True)
class Handoff:
    """A message SMS cannot carry, prepared for an agent to send in the platform's chat."""

    message_id: int
    shop: str
    tid: str | None
    buyer_nick: str | None
    purpose: str
    text: str
    created_at: datetime


def im_handoffs(
    *, session: Session, shop: str | None, limit: int, shops: list[str] | None = None
) -> list[Handoff]:
    """The buyers to reach in the platform's chat, oldest first, not yet handed off."""
    query = (
        select(OutboxMessage, Shop.code, Order.tid, Customer.buyer_nick)
        .join(Shop, col(Shop.id) == OutboxMessage.shop_id)
        .outerjoin(Order, col(Order.id) == OutboxMessage.order_id)
        .outerjoin(Customer, col(Customer.id) == OutboxMessage.customer_id)
        .where(
            col(OutboxMessage.status) == "suppressed",
            col(OutboxMessage.reason).endswith(IM_HANDOFF),
            col(OutboxMessage.handed_off_at).is_(None),
        )
    )
    if shop:
        query = query.where(Shop.code == shop)
    if shops is not None:
        query = query.where(col(Shop.code).in_(shops))
    rows = session.exec(query.order_by(col(OutboxMessage.created_at)).limit(limit)).all()
    return [
        Handoff(m.id or 0, code, tid, nick, m.purpose, m.text, m.created_at)
        for m, code, tid, nick in rows
    ]


def mark_handed_off(*, session: Session, message_id: int, agent: str, now: datetime) -> bool:
    """Record that an agent sent the message in the chat; False if it is no hand-off or done."""
    done = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.status) == "suppressed",
            col(OutboxMessage.reason).endswith(IM_HANDOFF),
            col(OutboxMessage.handed_off_at).is_(None),
        )
        .values(handed_off_at=now, handed_off_by=agent[:60])
    )
    return bool(getattr(done, "rowcount", 0))
