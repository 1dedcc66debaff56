"""Who is due which care message: orders shipped, delivered, confirmed; members; segments."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from aftercare.rules.care import (
    OrderFacts,
    Reachability,
    TouchPoint,
    care_blocker,
    is_marketing,
    template_name,
    weekly_cap_reason,
)
from aftercare.settings import CareSettings
from aftercare.store.outbox import Recipient, message_row
from aftercare.store.reminders import buyer_subject, subject, take_contact_slots
from aftercare.templates import for_shop
from models import (
    AfterSalesCase,
    ContactSlot,
    Customer,
    OptOut,
    Order,
    OrderItem,
    OutboxMessage,
    Review,
    Shipment,
    Shop,
)
from models.db import upsert

MARKETING_SCOPE = "marketing"
SHIPPED_STATUSES = ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_BUYER_SIGNED", "TRADE_FINISHED")


@dataclass(frozen=True, slots=True)
class Addressee:
    """A buyer of one shop, with what decides whether and how they may be messaged."""

    shop_id: int
    shop_code: str
    shop_name: str
    sms_enabled: bool
    customer_id: int
    buyer_nick: str
    phone: str | None
    phone_masked: bool
    consent: bool
    opted_out: bool
    order_id: int | None = None
    tid: str | None = None
    courier: str | None = None
    waybill: str | None = None
    category_id: str | None = None
    consigned_at: datetime | None = None
    ended_at: datetime | None = None
    blocked_by_case: bool = False
    buyer_id: str = ""
    oaid: str | None = None

    def order(self) -> OrderFacts:
        """The order a notice is about, as the care rules see it."""
        return OrderFacts(
            self.courier,
            self.waybill,
            self.category_id,
            self.consigned_at,
            self.ended_at,
            self.blocked_by_case,
        )

    def reach(self, by_oaid: bool = False) -> Reachability:
        """Whether a message can reach the buyer, as the care rules see it."""
        return Reachability(
            self.phone,
            self.phone_masked,
            self.sms_enabled,
            self.consent,
            self.opted_out,
            self.oaid if by_oaid else None,
        )


def shipped_orders(*, session: Session, since: datetime, until: datetime) -> list[Addressee]:
    """Orders consigned in the window, with their first parcel."""
    rows = session.exec(
        select(Order, Shipment)
        .join(Shipment, col(Shipment.order_id) == Order.id)
        .where(col(Order.consigned_at) >= since, col(Order.consigned_at) <= until)
        .where(col(Order.status).in_(SHIPPED_STATUSES))
        .order_by(col(Shipment.id))
    ).all()
    first: dict[int, tuple[Order, Shipment]] = {}
    for order, shipment in rows:
        first.setdefault(order.id or 0, (order, shipment))
    return _addressees(session, [(o, s) for o, s in first.values()])


def delivered_orders(*, session: Session, since: datetime, until: datetime) -> list[Addressee]:
    """Orders whose parcel was signed for in the window."""
    rows = session.exec(
        select(Order, Shipment)
        .join(Shipment, col(Shipment.order_id) == Order.id)
        .where(col(Shipment.delivered_at) >= since, col(Shipment.delivered_at) <= until)
        .order_by(col(Shipment.id))
    ).all()
    first: dict[int, tuple[Order, Shipment]] = {}
    for order, shipment in rows:
        first.setdefault(order.id or 0, (order, shipment))
    return _addressees(session, list(first.values()), with_cases=True)


def confirmed_orders(*, session: Session, since: datetime, until: datetime) -> list[Addressee]:
    """Orders whose receipt was confirmed in the window (by the buyer or the platform)."""
    orders = session.exec(
        select(Order).where(
            Order.status == "TRADE_FINISHED",
            col(Order.ended_at) >= since,
            col(Order.ended_at) <= until,
        )
    ).all()
    return _addressees(session, [(o, None) for o in orders])


def _addressees(
    session: Session,
    pairs: list[tuple[Order, Shipment | None]],
    *,
    with_cases: bool = False,
) -> list[Addressee]:
    if not pairs:
        return []
    order_ids = [o.id for o, _ in pairs if o.id is not None]
    customers = {
        c.id: c
        for c in session.exec(
            select(Customer).where(col(Customer.id).in_({o.customer_id for o, _ in pairs}))
        )
    }
    shops = {s.id: s for s in session.exec(select(Shop))}
    categories: dict[int, str | None] = {}
    for order_id, category in session.exec(
        select(OrderItem.order_id, OrderItem.category_id)
        .where(col(OrderItem.order_id).in_(order_ids))
        .order_by(col(OrderItem.id))
    ).all():
        categories.setdefault(order_id, category)
    blocked = _orders_with_open_trouble(session, order_ids) if with_cases else set()
    opted = opted_out(session=session, values=_identities(customers.values(), pairs))
    found = []
    for order, shipment in pairs:
        customer = customers[order.customer_id]
        shop = shops[order.shop_id]
        found.append(
            Addressee(
                shop_id=order.shop_id,
                shop_code=shop.code,
                shop_name=shop.name,
                sms_enabled=shop.sms_enabled,
                customer_id=order.customer_id,
                buyer_nick=customer.buyer_nick,
                buyer_id=customer.buyer_id,
                # The platform masks some phones; a member's own number on file still reaches them.
                phone=customer.phone
                if order.phone_masked and customer.phone
                else order.receiver_phone,
                phone_masked=order.phone_masked and not customer.phone,
                oaid=order.oaid,
                consent=customer.marketing_consent,
                opted_out=customer.buyer_nick in opted or (order.receiver_phone or "") in opted,
                order_id=order.id,
                tid=order.tid,
                courier=shipment.courier_name if shipment else None,
                waybill=shipment.waybill if shipment else None,
                category_id=categories.get(order.id or 0),
                consigned_at=order.consigned_at,
                ended_at=order.ended_at,
                blocked_by_case=(order.id or 0) in blocked,
            )
        )
    return found


def _identities(
    customers: Iterable[Customer], pairs: list[tuple[Order, Shipment | None]]
) -> set[str]:
    values = {c.buyer_nick for c in customers} | {c.phone for c in customers if c.phone}
    return values | {o.receiver_phone for o, _ in pairs if o.receiver_phone}


def _orders_with_open_trouble(session: Session, order_ids: list[int]) -> set[int]:
    """Orders with an open after-sales case or a neutral/bad review: no cheerful revisit."""
    open_cases = session.exec(
        select(AfterSalesCase.order_id).where(
            col(AfterSalesCase.order_id).in_(order_ids), AfterSalesCase.state == "open"
        )
    ).all()
    bad_reviews = session.exec(
        select(Review.order_id).where(
            col(Review.order_id).in_(order_ids), col(Review.result).in_(("neutral", "bad"))
        )
    ).all()
    return {i for i in [*open_cases, *bad_reviews] if i is not None}


def opted_out(*, session: Session, values: set[str]) -> set[str]:
    """Return which of the given nicks and phones opted out (for every shop of the team)."""
    if not values:
        return set()
    return set(session.exec(select(OptOut.value).where(col(OptOut.value).in_(values))).all())


def members(*, session: Session, shop_ids: set[int] | None = None) -> list[Addressee]:
    """Every member of the shops (customers with member data or consent on file)."""
    query = (
        select(Customer, Shop)
        .join(Shop, col(Shop.id) == Customer.shop_id)
        .where(
            (col(Customer.birthday).is_not(None))
            | (col(Customer.member_grade).is_not(None))
            | (col(Customer.marketing_consent) == True)  # noqa: E712 (SQL expression)
        )
        .order_by(col(Customer.id))
    )
    if shop_ids:
        query = query.where(col(Customer.shop_id).in_(shop_ids))
    rows = session.exec(query).all()
    opted = opted_out(
        session=session,
        values={c.buyer_nick for c, _ in rows} | {c.phone for c, _ in rows if c.phone},
    )
    return [
        Addressee(
            shop_id=shop.id or 0,
            shop_code=shop.code,
            shop_name=shop.name,
            sms_enabled=shop.sms_enabled,
            customer_id=customer.id or 0,
            buyer_nick=customer.buyer_nick,
            buyer_id=customer.buyer_id,
            phone=customer.phone,
            phone_masked=customer.phone_masked,
            consent=customer.marketing_consent,
            opted_out=customer.buyer_nick in opted or (customer.phone or "") in opted,
        )
        for customer, shop in rows
    ]


def birthdays(*, session: Session) -> dict[int, date]:
    """Return the birthday of every customer who has one on file."""
    rows = session.exec(
        select(col(Customer.id), col(Customer.birthday)).where(col(Customer.birthday).is_not(None))
    ).all()
    return {cid: day for cid, day in rows if cid is not None and day is not None}


def take_marketing_slot(
    *,
    session: Session,
    who: Addressee,
    day: date,
    per_day: int,
    per_week: int,
    key: str,
    now: datetime,
) -> str | None:
    """Take one of the buyer's marketing slots of the day; return why not (daily/weekly cap).

    Slot n of a day is its own scope ("marketing:1", "marketing:2"...), so the database's
    unique key enforces the daily cap even when runs overlap.
    """
    subjects = [
        buyer_subject(who.buyer_id or f"nick:{who.buyer_nick}"),
        subject("phone", who.phone or ""),
    ]
    this_week = session.exec(
        select(func.count(func.distinct(ContactSlot.taken_by))).where(
            col(ContactSlot.scope).like(f"{MARKETING_SCOPE}:%"),
            col(ContactSlot.subject).in_(subjects),
            col(ContactSlot.day) > day - timedelta(days=7),
            col(ContactSlot.day) <= day,
        )
    ).one()
    capped = weekly_cap_reason(this_week, per_week)
    if capped:
        return capped
    for slot in range(1, per_day + 1):
        if take_contact_slots(
            session=session,
            subjects=subjects,
            day=day,
            key=key,
            now=now,
            scope=f"{MARKETING_SCOPE}:{slot}",
        ):
            return None
    return f"daily marketing cap reached ({per_day} a day)"


def import_members(
    *, session: Session, shop_id: int, members: list[dict[str, object]], now: datetime
) -> int:
    """Upsert member data (birthday, grade, tags, consent) onto the shop's customers.

    The export names members by nick only: a member goes onto the one customer of that nick,
    or, when several buyers share the (blurred) nick, onto a customer of its own, so consent
    is never given to the wrong person.
    """
    ids = _buyer_ids_by_nick(session, shop_id, {str(m["buyer_nick"]) for m in members})
    rows = [
        {
            "shop_id": shop_id,
            "buyer_id": ids.get(str(m["buyer_nick"])) or f"nick:{m['buyer_nick']}"[:120],
            "buyer_nick": m["buyer_nick"],
            "name": m.get("name"),
            "phone": m.get("phone"),
            "phone_masked": False,
            "birthday": m.get("birthday"),
            "member_grade": m.get("grade"),
            "tags": m.get("tags") or "",
            "marketing_consent": bool(m.get("consent")),
            "consent_at": m.get("consent_at"),
            "first_seen_at": now,
            "updated_at": now,
        }
        for m in members
    ]
    member_data = [
        "birthday",
        "member_grade",
        "tags",
        "marketing_consent",
        "consent_at",
        "updated_at",
    ]
    # A number the member gave the shop replaces a masked one from the platform; no number
    # leaves the known one alone.
    with_phone = [r for r in rows if r["phone"]]
    upsert(
        session,
        Customer,
        with_phone,
        keys=["shop_id", "buyer_id"],
        update=[*member_data, "phone", "phone_masked"],
    )
    without = [{k: v for k, v in r.items() if k != "phone"} for r in rows if not r["phone"]]
    upsert(session, Customer, without, keys=["shop_id", "buyer_id"], update=member_data)
    return len(rows)


def _buyer_ids_by_nick(session: Session, shop_id: int, nicks: set[str]) -> dict[str, str]:
    """Return the buyer id of each nick that exactly one customer of the shop has."""
    found: dict[str, list[str]] = {}
    listed = list(nicks)
    for start in range(0, len(listed), 500):
        rows = session.exec(
            select(Customer.buyer_nick, Customer.buyer_id).where(
                Customer.shop_id == shop_id,
                col(Customer.buyer_nick).in_(listed[start : start + 500]),
            )
        ).all()
        for nick, buyer in rows:
            found.setdefault(nick, []).append(buyer)
    return {nick: buyers[0] for nick, buyers in found.items() if len(buyers) == 1}


def segment(
    *,
    session: Session,
    shop_id: int,
    tags: list[str],
    min_grade: int | None,
    bought_category: str | None,
    bought_since: datetime | None,
) -> set[int]:
    """Return the customer ids of a shop matching a segment (all given criteria)."""
    query = select(Customer.id, Customer.tags, Customer.member_grade).where(
        Customer.shop_id == shop_id
    )
    if bought_category or bought_since:
        bought = select(Order.customer_id).join(OrderItem, col(OrderItem.order_id) == Order.id)
        bought = bought.where(Order.shop_id == shop_id, col(Order.paid_at).is_not(None))
        if bought_category:
            bought = bought.where(OrderItem.category_id == bought_category)
        if bought_since:
            bought = bought.where(col(Order.paid_at) >= bought_since)
        query = query.where(col(Customer.id).in_(bought))
    found = set()
    for customer_id, customer_tags, grade in session.exec(query).all():
        have = set(filter(None, customer_tags.split("|")))
        if tags and not have & set(tags):
            continue
        if min_grade is not None and (grade is None or grade < min_grade):
            continue
        found.add(customer_id or 0)
    return found


def sent_since(*, session: Session, since: datetime) -> dict[str, int]:
    """Count care messages sent since a time, by touch-point."""
    rows = session.exec(
        select(OutboxMessage.purpose, func.count())
        .where(
            col(OutboxMessage.purpose).like("care_%"),
            col(OutboxMessage.status) == "sent",
            col(OutboxMessage.sent_at) >= since,
        )
        .group_by(col(OutboxMessage.purpose))
    ).all()
    counts: dict[str, int] = {}
    for purpose, count in rows:
        touchpoint = purpose.removeprefix("care_").split("@")[0].removesuffix("_marketing")
        counts[touchpoint] = counts.get(touchpoint, 0) + count
    return counts


def care_message(
    *,
    session: Session,
    who: Addressee,
    touchpoint: TouchPoint,
    care: CareSettings,
    key: str,
    params: Mapping[str, object],
    day: date,
    now: datetime,
    suppressed_because: str | None = None,
    by_oaid: bool = False,
) -> dict[str, Any]:
    """Decide one care message (consent, reachability, marketing caps); build its outbox row.

    `day` is the team's day the marketing caps count on.
    """
    marketing = is_marketing(touchpoint, care.revisit_is_marketing)
    reach = who.reach(by_oaid)
    reason = suppressed_because or care_blocker(marketing, reach)
    if reason is None and marketing:
        reason = take_marketing_slot(
            session=session,
            who=who,
            day=day,
            per_day=care.marketing_per_day,
            per_week=care.marketing_per_week,
            key=key,
            now=now,
        )
    return message_row(
        key=key,
        template=for_shop(template_name(touchpoint, marketing), who.shop_code),
        params={"shop": who.shop_name, **params},
        recipient=Recipient(who.shop_id, who.customer_id, who.order_id, who.phone, oaid=reach.oaid),
        now=now,
        suppressed_because=reason,
    )


def outcome_counts(rows: list[dict[str, Any]], touchpoint: TouchPoint) -> Counter[str]:
    """Count the queued rows and the suppressed ones by reason, under the touch-point's name."""
    return Counter(f"{touchpoint}:{row['reason'] or 'queued'}" for row in rows)
