"""Unpaid orders due for a reminder, the buyers' standing, daily contact slots, conversions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, update
from sqlalchemy import select as sa_select  # more than four columns
from sqlmodel import Session, col, select

from aftercare.rules.reminders import DueReminder, ReminderFacts, Stage, StagePlan
from models import (
    BlacklistEntry,
    ContactSlot,
    Customer,
    OptOut,
    Order,
    OrderItem,
    OutboxMessage,
    OutboxStatus,
    ReminderConversion,
    Shop,
)
from models.db import claim, insert_ignore

SCOPE = "unpaid_reminder"


@dataclass(frozen=True, slots=True)
class OrderToRemind:
    """An unpaid order due for a reminder stage, with everything the rules look at."""

    id: int
    tid: str
    shop_id: int
    shop_code: str
    shop_name: str
    shop_timezone: str | None
    customer_id: int
    buyer_nick: str
    buyer_id: str
    status: str
    trade_type: str
    created_at: datetime
    payment: Decimal
    phone: str | None
    phone_masked: bool
    stage: Stage
    item_title: str
    buyer_paid_recently: bool
    blacklisted: bool
    opted_out: bool
    oaid: str | None = None

    def due(self, oaid_sms: bool = False) -> DueReminder:
        """The order as the reminder rules see it (its OAID only where the shop may use it)."""
        facts = ReminderFacts(
            status=self.status,
            payment=self.payment,
            phone=self.phone,
            phone_masked=self.phone_masked,
            buyer_paid_recently=self.buyer_paid_recently,
            blacklisted=self.blacklisted,
            opted_out=self.opted_out,
            oaid=self.oaid if oaid_sms else None,
        )
        return DueReminder(self.created_at, self.trade_type, self.stage, facts)


def due_orders_query(now: datetime, limit: int) -> Select[Any]:
    """Select the ids of orders whose next reminder is due: one range scan of an index."""
    return (
        select(Order.id)
        .where(col(Order.reminder_due_at) <= now)
        .order_by(col(Order.reminder_due_at))
        .limit(limit)
    )


def count_due_orders(*, session: Session, now: datetime) -> int:
    """Count the orders whose next reminder is due."""
    due = due_orders_query(now, 10**6).subquery()
    return int(session.exec(select(func.count()).select_from(due)).one())


def claim_due_orders(
    *, session: Session, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[int]:
    """Take the orders due for a reminder; a run that dies leaves them due after the lease."""
    return claim(
        session,
        Order,
        candidates=due_orders_query(now, limit),
        due=col(Order.reminder_due_at) <= now,
        values={"reminder_due_at": now + lease, "reminder_claimed_by": owner},
    )


def load_orders(*, session: Session, ids: list[int], paid_since: datetime) -> list[OrderToRemind]:
    """Load the claimed orders with their buyer's standing, in a handful of queries."""
    rows = session.exec(
        select(Order, Customer.buyer_nick, Customer.buyer_id, Shop)
        .join(Customer, col(Customer.id) == Order.customer_id)
        .join(Shop, col(Shop.id) == Order.shop_id)
        .where(col(Order.id).in_(ids), col(Order.reminder_stage).is_not(None))
        .order_by(col(Order.created_at))
    ).all()
    if not rows:
        return []
    nicks = {nick for _, nick, _, _ in rows}
    buyers = {buyer for _, _, buyer, _ in rows}
    phones = {order.receiver_phone for order, _, _, _ in rows if order.receiver_phone}
    titles = _first_titles(session, ids)
    # The buyer, not the nick: a blurred nick is shared, and another buyer's payment is no
    # reason to leave this one's order unreminded.
    paid = set(
        session.exec(
            select(Customer.buyer_id)
            .join(Order, col(Order.customer_id) == Customer.id)
            .where(col(Customer.buyer_id).in_(buyers), col(Order.paid_at) >= paid_since)
            .distinct()
        ).all()
    )
    blocked = {
        (entry.shop_id, entry.kind, entry.value)
        for entry in session.exec(
            select(BlacklistEntry).where(
                or_(
                    and_(col(BlacklistEntry.kind) == "nick", col(BlacklistEntry.value).in_(nicks)),
                    and_(
                        col(BlacklistEntry.kind) == "phone", col(BlacklistEntry.value).in_(phones)
                    ),
                )
            )
        )
    }
    opted = {
        (entry.kind, entry.value)
        for entry in session.exec(select(OptOut).where(col(OptOut.value).in_(nicks | phones)))
    }
    return [
        OrderToRemind(
            id=order.id,  # type: ignore[arg-type]
            tid=order.tid,
            shop_id=order.shop_id,
            shop_code=shop.code,
            shop_name=shop.name,
            shop_timezone=shop.timezone,
            customer_id=order.customer_id,
            buyer_nick=nick,
            buyer_id=buyer,
            status=order.status,
            trade_type=order.trade_type,
            created_at=order.created_at,
            payment=order.payment,
            phone=order.receiver_phone,
            phone_masked=order.phone_masked,
            stage=Stage(str(order.reminder_stage)),
            item_title=titles.get(order.id, ""),  # type: ignore[arg-type]
            buyer_paid_recently=buyer in paid,
            blacklisted=(order.shop_id, "nick", nick) in blocked
            or (order.shop_id, "phone", order.receiver_phone) in blocked,
            opted_out=("nick", nick) in opted or ("phone", order.receiver_phone) in opted,
            oaid=order.oaid,
        )
        for order, nick, buyer, shop in rows
    ]


def _first_titles(session: Session, ids: list[int]) -> dict[int, str]:
    titles: dict[int, str] = {}
    for order_id, title in session.exec(
        select(OrderItem.order_id, OrderItem.title)
        .where(col(OrderItem.order_id).in_(ids))
        .order_by(col(OrderItem.id))
    ).all():
        titles.setdefault(order_id, title)
    return titles


def subject(kind: str, value: str) -> str:
    """Identify a buyer or phone in the contact slots without storing it."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def buyer_subject(buyer_id: str) -> str:
    """Identify a buyer in the contact slots: by open uid, or as before by nick (no uid)."""
    if buyer_id.startswith("nick:"):
        return subject("nick", buyer_id.removeprefix("nick:"))
    return subject("buyer", buyer_id)


def take_contact_slots(
    *,
    session: Session,
    subjects: list[str],
    day: date,
    key: str,
    now: datetime,
    scope: str = SCOPE,
) -> bool:
    """Take today's slot for every subject (buyer, phone), or none of them; True if taken."""
    taken: list[str] = []
    for value in subjects:
        row = {"scope": scope, "subject": value, "day": day, "taken_by": key, "taken_at": now}
        if insert_ignore(session, ContactSlot, [row], keys=["scope", "subject", "day"]):
            taken.append(value)
            continue
        if taken:  # give back what this message took: all slots or none
            session.execute(
                delete(ContactSlot).where(
                    col(ContactSlot.scope) == scope,
                    col(ContactSlot.day) == day,
                    col(ContactSlot.subject).in_(taken),
                    col(ContactSlot.taken_by) == key,
                )
            )
        return False
    return True


def set_next_stages(*, session: Session, plans: list[tuple[int, StagePlan | None]]) -> None:
    """Move each order to its next reminder stage, or to none."""
    if not plans:
        return
    session.execute(
        update(Order),
        [
            {
                "id": order_id,
                "reminder_stage": plan.stage.value if plan else None,
                "reminder_due_at": plan.due_at if plan else None,
                "reminder_claimed_by": None,
            }
            for order_id, plan in plans
        ],
    )


def record_conversions(*, session: Session, now: datetime, window: timedelta) -> int:
    """Record orders paid within the window after a reminder was sent; return how many are new."""
    candidates = session.execute(
        sa_select(
            col(Order.id),
            col(Order.shop_id),
            col(Order.paid_at),
            col(Order.payment),
            col(OutboxMessage.purpose),
            col(OutboxMessage.sent_at),
        )
        .join(OutboxMessage, col(OutboxMessage.order_id) == Order.id)
        .where(
            col(Order.paid_at) >= now - window - timedelta(days=1),
            col(Order.paid_at) <= now,
            col(OutboxMessage.purpose).like("unpaid_%"),
            col(OutboxMessage.status) == OutboxStatus.SENT,
        )
        .order_by(col(OutboxMessage.sent_at))
    ).all()
    rows: dict[int, dict[str, Any]] = {}
    for order_id, shop_id, paid_at, payment, purpose, sent_at in candidates:
        if sent_at is None or paid_at is None or not sent_at <= paid_at <= sent_at + window:
            continue
        rows[order_id] = {  # the last reminder before payment gets the credit
            "order_id": order_id,
            "shop_id": shop_id,
            "stage": purpose.removeprefix("unpaid_").split("@")[0],
            "reminded_at": sent_at,
            "paid_at": paid_at,
            "amount": payment,
        }
    return len(insert_ignore(session, ReminderConversion, list(rows.values()), keys=["order_id"]))


@dataclass(frozen=True, slots=True)
class ReminderFigures:
    """This run's reminder decisions and the day's results so far."""

    queued: int
    suppressed: dict[str, int]
    sent_today: int
    paid_after_reminder_today: int
    recovered_amount_today: Decimal
    new_conversions: int = 0


def daily_report(*, session: Session, run_at: datetime, day_start: datetime) -> ReminderFigures:
    """Figures for the run's artifact: this run's decisions and the day's results so far."""
    decided = session.exec(
        select(OutboxMessage.status, OutboxMessage.reason, func.count())
        .where(
            col(OutboxMessage.purpose).like("unpaid_%"),
            col(OutboxMessage.created_at) == run_at,
        )
        .group_by(col(OutboxMessage.status), col(OutboxMessage.reason))
    ).all()
    sent_today = session.exec(
        select(func.count()).where(
            col(OutboxMessage.purpose).like("unpaid_%"),
            col(OutboxMessage.status) == OutboxStatus.SENT,
            col(OutboxMessage.sent_at) >= day_start,
        )
    ).one()
    paid_count, paid_amount = session.exec(
        select(func.count(), func.coalesce(func.sum(ReminderConversion.amount), 0)).where(
            col(ReminderConversion.paid_at) >= day_start
        )
    ).one()
    return ReminderFigures(
        queued=sum(n for status, _, n in decided if status == OutboxStatus.PENDING),
        suppressed={
            reason or "?": n for status, reason, n in decided if status == OutboxStatus.SUPPRESSED
        },
        sent_today=sent_today,
        paid_after_reminder_today=paid_count,
        recovered_amount_today=Decimal(paid_amount),
    )
