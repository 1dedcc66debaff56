"""Greetings and previews to members: birthdays, holidays, new products; each queued once."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aftercare.rules import message_keys
from aftercare.rules.care import TouchPoint, holiday_on, is_birthday
from aftercare.rules.notices import masked_reach
from aftercare.settings import get_settings
from aftercare.store import care as store
from aftercare.store.outbox import enqueue, existing_keys
from models.db import session_scope
from tasks.policy import pipeline_task


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
                care = settings.care.for_shop(who.shop_code)
                if touchpoint.value not in care.enabled_touchpoints():
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
                row = store.care_message(
                    session=session,
                    who=who,
                    touchpoint=touchpoint,
                    care=care,
                    key=key,
                    params=params,
                    day=today,
                    now=as_of,
                    by_oaid=masked_reach(settings.channels, who.shop_code, "care"),
                )
                rows.append(row)
            enqueue(session=session, rows=rows)
            counts.update(store.outcome_counts(rows, touchpoint))
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
    care = settings.care.for_shop(shop_code)
    today = as_of.astimezone(ZoneInfo(settings.timezone)).date()
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
            store.care_message(
                session=session,
                who=who,
                touchpoint=TouchPoint.NEW_PRODUCT,
                care=care,
                key=key,
                params={"product": product},
                day=today,
                now=as_of,
                by_oaid=masked_reach(settings.channels, shop_code, "care"),
            )
            for key, who in keyed.items()
            if key not in decided
        ]
        enqueue(session=session, rows=rows)
    return dict(store.outcome_counts(rows, TouchPoint.NEW_PRODUCT))
