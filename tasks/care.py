"""Care message tasks: order notices, greetings and previews, each decided and queued once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from aftercare.clock import local_day_start
from aftercare.rules import message_keys
from aftercare.rules.care import (
    MARKETING,
    Reachability,
    TouchPoint,
    auto_confirmed,
    care_blocker,
    care_tip,
    holiday_on,
    is_birthday,
)
from aftercare.settings import CareSettings, Settings, get_settings
from aftercare.store import care as store
from aftercare.store.outbox import Recipient, enqueue, existing_keys, message_row
from aftercare.templates import for_shop
from models.db import session_scope
from tasks.policy import pipeline_task


def _counts(rows: list[dict[str, Any]], touchpoint: TouchPoint) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in rows:
        reason = row["reason"] or "queued"
        counts[f"{touchpoint}:{reason}"] += 1
    return counts


def _row(
    session: Session,
    settings: Settings,
    who: store.Addressee,
    touchpoint: TouchPoint,
    key: str,
    params: Mapping[str, object],
    now: datetime,
    template: str | None = None,
    suppressed_because: str | None = None,
) -> dict[str, Any]:
    """Decide one care message: consent, reachability, marketing caps; build its outbox row."""
    care = settings.care.for_shop(who.shop_code)
    marketing = touchpoint in MARKETING or (
        touchpoint is TouchPoint.REVISIT and care.revisit_is_marketing
    )
    reach = Reachability(who.phone, who.phone_masked, who.sms_enabled, who.consent, who.opted_out)
    reason = suppressed_because or care_blocker(marketing, reach)
    if reason is None and marketing:
        day = now.astimezone(ZoneInfo(settings.timezone)).date()
        reason = store.take_marketing_slot(
            session=session,
            who=who,
            day=day,
            per_day=care.marketing_per_day,
            per_week=care.marketing_per_week,
            key=key,
            now=now,
        )
    name = template or f"care_{touchpoint}" + (
        "_marketing" if marketing and touchpoint is TouchPoint.REVISIT else ""
    )
    return message_row(
        key=key,
        template=for_shop(name, who.shop_code),
        params={"shop": who.shop_name, **params},
        recipient=Recipient(who.shop_id, who.customer_id, who.order_id, who.phone),
        now=now,
        suppressed_because=reason,
    )


@pipeline_task("queue-order-notices")
def queue_order_notices(as_of: datetime) -> dict[str, int]:
    """Queue shipping, delivery, revisit and receipt-thanks notices for the orders due them."""
    settings = get_settings()
    care = settings.care
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        fresh = as_of - timedelta(hours=care.notice_max_age_hours)
        plans: list[tuple[TouchPoint, list[store.Addressee]]] = [
            (TouchPoint.SHIPPED, store.shipped_orders(session=session, since=fresh, until=as_of)),
            (
                TouchPoint.DELIVERED,
                store.delivered_orders(session=session, since=fresh, until=as_of),
            ),
            (
                TouchPoint.REVISIT,
                store.delivered_orders(
                    session=session,
                    since=as_of
                    - timedelta(days=care.revisit_days)
                    - timedelta(hours=care.notice_max_age_hours),
                    until=as_of - timedelta(days=care.revisit_days),
                ),
            ),
            (
                TouchPoint.CONFIRMED,
                store.confirmed_orders(
                    session=session,
                    since=as_of - timedelta(hours=care.confirmed_thanks_within_hours),
                    until=as_of,
                ),
            ),
        ]
        for touchpoint, addressees in plans:
            keyed = {
                message_keys.order_care(who.shop_code, who.tid or "", touchpoint): who
                for who in addressees
            }
            decided = existing_keys(session=session, keys=list(keyed))
            rows = []
            for key, who in keyed.items():
                rules = care.for_shop(who.shop_code)
                if key in decided or touchpoint.value not in rules.enabled_touchpoints():
                    continue
                rows.append(
                    _row(
                        session,
                        settings,
                        who,
                        touchpoint,
                        key,
                        _order_params(touchpoint, who),
                        as_of,
                        suppressed_because=_order_skip(touchpoint, who, rules),
                    )
                )
            enqueue(session=session, rows=rows)
            counts.update(_counts(rows, touchpoint))
    return dict(counts)


def _order_params(touchpoint: TouchPoint, who: store.Addressee) -> dict[str, object]:
    if touchpoint is TouchPoint.SHIPPED:
        return {"courier": who.courier or "快递", "waybill": who.waybill or ""}
    if touchpoint is TouchPoint.DELIVERED:
        return {"tip": care_tip(who.category_id)}
    return {}


def _order_skip(touchpoint: TouchPoint, who: store.Addressee, rules: CareSettings) -> str | None:
    if touchpoint is TouchPoint.REVISIT and who.blocked_by_case:
        return "an after-sales case or a bad review is open for the order"
    if (
        touchpoint is TouchPoint.CONFIRMED
        and who.ended_at
        and auto_confirmed(who.consigned_at, who.ended_at, rules.auto_confirm_days)
    ):
        return "receipt confirmed automatically by the platform, not by the buyer"
    return None


@pipeline_task("queue-greetings")
def queue_greetings(as_of: datetime) -> dict[str, int]:
    """Queue birthday greetings, and holiday greetings on a holiday, to the shops' members."""
    settings = get_settings()
    today: date = as_of.astimezone(ZoneInfo(settings.timezone)).date()
    holiday = holiday_on(today)
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        members = store.members(session=session)
        birthdays = store.birthdays(session=session)
        for touchpoint in (TouchPoint.BIRTHDAY, TouchPoint.HOLIDAY):
            rows = []
            for who in members:
                if (
                    touchpoint.value
                    not in settings.care.for_shop(who.shop_code).enabled_touchpoints()
                ):
                    continue
                if touchpoint is TouchPoint.BIRTHDAY:
                    if not is_birthday(birthdays.get(who.customer_id), today):
                        continue
                    key = message_keys.birthday_greeting(who.shop_code, who.customer_id, today.year)
                    params: dict[str, object] = {}
                else:
                    if holiday is None:
                        continue
                    key = message_keys.holiday_greeting(
                        who.shop_code, who.customer_id, holiday, today.year
                    )
                    params = {"holiday": holiday}
                rows.append(_row(session, settings, who, touchpoint, key, params, as_of))
            enqueue(session=session, rows=rows)
            counts.update(_counts(rows, touchpoint))
    return dict(counts)


@pipeline_task("queue-new-product-preview")
def queue_new_product_preview(
    shop_code: str,
    product: str,
    campaign: str,
    tags: list[str],
    min_grade: int | None,
    bought_category: str | None,
    bought_within_days: int | None,
    as_of: datetime,
) -> dict[str, int]:
    """Queue a new-product preview to a shop's segment; one per member per campaign."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        members = [m for m in store.members(session=session) if m.shop_code == shop_code]
        if not members:
            return {}
        chosen = store.segment(
            session=session,
            shop_id=members[0].shop_id,
            tags=tags,
            min_grade=min_grade,
            bought_category=bought_category,
            bought_since=as_of - timedelta(days=bought_within_days) if bought_within_days else None,
        )
        keyed = {
            message_keys.new_product_preview(shop_code, who.customer_id, campaign): who
            for who in members
            if who.customer_id in chosen
        }
        decided = existing_keys(session=session, keys=list(keyed))
        rows = [
            _row(session, settings, who, TouchPoint.NEW_PRODUCT, key, {"product": product}, as_of)
            for key, who in keyed.items()
            if key not in decided
        ]
        enqueue(session=session, rows=rows)
    return dict(_counts(rows, TouchPoint.NEW_PRODUCT))


@pipeline_task("care-sent-today")
def care_sent_today(as_of: datetime) -> dict[str, int]:
    """Count the care messages sent today (local), by touch-point."""
    settings = get_settings()
    start = local_day_start(as_of, settings.timezone)
    with session_scope(settings.database_url) as session:
        return store.sent_since(session=session, since=start)
