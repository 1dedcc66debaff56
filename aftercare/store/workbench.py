"""What the workbench reads and writes: the queue, a case with its buyer, assignment, notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case as when
from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select  # more than four columns
from sqlmodel import Session, col, select

from aftercare.rules.workbench import CaseStep
from aftercare.store.reviews import close_case
from models import (
    AfterSalesCase,
    BlacklistEntry,
    CaseEvent,
    Customer,
    OptOut,
    Order,
    OrderItem,
    OutboxMessage,
    Review,
    Shipment,
    Shop,
    TrackingEvent,
)

UNASSIGNED = "-"  # the agent filter's value for cases nobody has taken


@dataclass(frozen=True, slots=True)
class QueueCase:
    """An open case as the queue lists it."""

    id: int
    shop: str
    kind: str
    severity: str
    next_action: str | None
    next_action_at: datetime | None
    deadline_at: datetime | None
    assigned_to: str | None
    summary: str
    tid: str | None
    payment: Decimal | None


def shop_ids(*, session: Session, shops: list[str]) -> dict[str, int]:
    """The id of each shop named, by code (the case indexes are by shop id)."""
    found = session.exec(select(Shop.code, Shop.id).where(col(Shop.code).in_(shops))).all()
    return {code: shop_id for code, shop_id in found if shop_id}


def open_cases(
    *,
    session: Session,
    shops: list[str],
    kind: str | None,
    agent: str | None,
    limit: int,
) -> list[QueueCase]:
    """The open cases of the shops, soonest next step first (those without one last)."""
    ids = list(shop_ids(session=session, shops=shops).values())
    base = (
        sa_select(
            col(AfterSalesCase.id),
            col(Shop.code),
            col(AfterSalesCase.kind),
            col(AfterSalesCase.severity),
            col(AfterSalesCase.next_action),
            col(AfterSalesCase.next_action_at),
            col(AfterSalesCase.deadline_at),
            col(AfterSalesCase.assigned_to),
            col(AfterSalesCase.summary),
            col(Order.tid),
            col(Order.payment),
        )
        .join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
        .outerjoin(Order, col(Order.id) == AfterSalesCase.order_id)
        .where(col(AfterSalesCase.state) == "open", col(AfterSalesCase.shop_id).in_(ids))
    )
    if kind:
        base = base.where(col(AfterSalesCase.kind) == kind)
    if agent == UNASSIGNED:
        base = base.where(col(AfterSalesCase.assigned_to).is_(None))
    elif agent:
        base = base.where(col(AfterSalesCase.assigned_to) == agent)
    # Two reads, each an index walk on (state, next_action_at): no sort of every open case.
    rows = list(
        session.execute(
            base.where(col(AfterSalesCase.next_action_at).is_not(None))
            .order_by(col(AfterSalesCase.next_action_at), col(AfterSalesCase.id))
            .limit(limit)
        ).all()
    )
    if len(rows) < limit:
        rows += session.execute(
            base.where(col(AfterSalesCase.next_action_at).is_(None))
            .order_by(col(AfterSalesCase.id))
            .limit(limit - len(rows))
        ).all()
    return [QueueCase(*row) for row in rows]


def open_counts(*, session: Session, shops: list[str], now: datetime) -> dict[str, tuple[int, int]]:
    """Open cases per kind, with how many of them are overdue: {kind: (open, overdue)}."""
    counts: dict[str, tuple[int, int]] = {}
    # One shop at a time: each is a range of the covering index (state, shop, kind, due);
    # with the list of shops in one query, SQLite read the table instead (20x slower here).
    for shop_id in shop_ids(session=session, shops=shops).values():
        rows = session.execute(
            sa_select(
                col(AfterSalesCase.kind),
                func.count(),
                func.sum(when((col(AfterSalesCase.next_action_at) < now, 1), else_=0)),
            )
            .where(col(AfterSalesCase.state) == "open", col(AfterSalesCase.shop_id) == shop_id)
            .group_by(col(AfterSalesCase.kind))
        ).all()
        for kind, count, overdue in rows:
            had = counts.get(kind, (0, 0))
            counts[kind] = (had[0] + count, had[1] + int(overdue or 0))
    return counts


@dataclass(frozen=True, slots=True)
class Parcel:
    """A parcel of the order and its scans, oldest first."""

    shipment: Shipment
    scans: list[TrackingEvent]


@dataclass(slots=True)
class CaseFile:
    """Everything an agent needs to work a case: order, parcels, review, buyer, history."""

    case: AfterSalesCase
    shop: Shop
    order: Order | None = None
    items: list[OrderItem] = field(default_factory=list)
    parcels: list[Parcel] = field(default_factory=list)
    review: Review | None = None
    customer: Customer | None = None
    events: list[CaseEvent] = field(default_factory=list)
    earlier_cases: list[AfterSalesCase] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    opted_out: bool = False
    blacklisted: bool = False


def case_file(*, session: Session, case_id: int, scans: int = 60) -> CaseFile | None:
    """Load one case with what working it needs; None if there is no such case."""
    case = session.get(AfterSalesCase, case_id)
    if case is None:
        return None
    shop = session.get(Shop, case.shop_id)
    assert shop is not None
    found = CaseFile(case, shop)
    found.events = list(
        session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
        ).all()
    )
    if case.review_id:
        found.review = session.get(Review, case.review_id)
    order_id = case.order_id or (found.review.order_id if found.review else None)
    if order_id is None:
        return found
    order = found.order = session.get(Order, order_id)
    if order is None:
        return found
    found.items = list(session.exec(select(OrderItem).where(OrderItem.order_id == order_id)).all())
    for shipment in session.exec(
        select(Shipment).where(Shipment.order_id == order_id).order_by(col(Shipment.id))
    ).all():
        events = session.exec(
            select(TrackingEvent)
            .where(TrackingEvent.shipment_id == shipment.id)
            .order_by(col(TrackingEvent.occurred_at).desc())
            .limit(scans)
        ).all()
        found.parcels.append(Parcel(shipment, list(reversed(events))))
    found.customer = session.get(Customer, order.customer_id)
    _buyer_history(session, found, order)
    return found


def _buyer_history(session: Session, found: CaseFile, order: Order) -> None:
    """The buyer's other cases with the team, the messages sent, and their opt-out state."""
    orders = select(Order.id).where(Order.customer_id == order.customer_id)
    found.earlier_cases = list(
        session.exec(
            select(AfterSalesCase)
            .where(
                col(AfterSalesCase.order_id).in_(orders)
                | col(AfterSalesCase.review_id).in_(
                    select(Review.id).where(col(Review.order_id).in_(orders))
                ),
                AfterSalesCase.id != found.case.id,
            )
            .order_by(col(AfterSalesCase.opened_at).desc())
            .limit(20)
        ).all()
    )
    found.messages = list(
        session.exec(
            select(OutboxMessage)
            .where(
                or_(
                    col(OutboxMessage.customer_id) == order.customer_id,
                    col(OutboxMessage.order_id).in_(orders),
                )
            )
            .order_by(col(OutboxMessage.created_at).desc())
            .limit(30)
        ).all()
    )
    keys = [("phone", order.receiver_phone)] if order.receiver_phone else []
    if found.customer is not None:
        keys.append(("nick", found.customer.buyer_nick))
    matches = [(col(OptOut.kind) == kind) & (col(OptOut.value) == value) for kind, value in keys]
    found.opted_out = bool(matches) and bool(
        session.exec(select(func.count()).select_from(OptOut).where(or_(*matches))).one()
    )
    listed = [
        (col(BlacklistEntry.kind) == kind) & (col(BlacklistEntry.value) == value)
        for kind, value in keys
    ]
    found.blacklisted = bool(listed) and bool(
        session.exec(
            select(func.count())
            .select_from(BlacklistEntry)
            .where(BlacklistEntry.shop_id == order.shop_id, or_(*listed))
        ).one()
    )


def assign(*, session: Session, case_id: int, agent: str | None, by: str, now: datetime) -> bool:
    """Give an open case to an agent (None: back to the shop's queue); False if not open."""
    changed = session.execute(
        update(AfterSalesCase)
        .where(col(AfterSalesCase.id) == case_id, col(AfterSalesCase.state) == "open")
        .values(assigned_to=agent, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if changed:
        session.add(
            CaseEvent(
                case_id=case_id,
                at=now,
                action="assigned",
                actor=by[:60],
                note=agent or "unassigned",
            )
        )
    return bool(changed)


def add_note(*, session: Session, case_id: int, text: str, by: str, now: datetime) -> None:
    """Add an agent's note to a case's history."""
    session.add(CaseEvent(case_id=case_id, at=now, action="note", actor=by[:60], note=text))


def work_logistics_case(
    *,
    session: Session,
    case_id: int,
    outcome: str,
    step: CaseStep,
    agent: str,
    note: str,
    now: datetime,
) -> bool:
    """Record an agent's outcome on an open logistics case and its next step (or close it);
    False if the case is no longer open (someone else closed it meanwhile)."""
    locked = session.exec(
        select(AfterSalesCase)
        .where(AfterSalesCase.id == case_id, AfterSalesCase.state == "open")
        .with_for_update()
    ).first()
    if locked is None:
        return False
    session.add(
        CaseEvent(case_id=case_id, at=now, action=f"contact:{outcome}", actor=agent[:60], note=note)
    )
    if step.close_reason:
        return close_case(session=session, case_id=case_id, reason=step.close_reason, now=now)
    session.execute(
        update(AfterSalesCase)
        .where(col(AfterSalesCase.id) == case_id)
        .values(
            last_outcome=outcome,
            contact_attempts=locked.contact_attempts + 1,
            next_action=step.action,
            next_action_at=step.at,
            updated_at=now,
        )
    )
    return True
