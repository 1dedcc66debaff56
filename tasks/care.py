"""Order notices (shipped, delivered, revisit, receipt thanks), each decided and queued once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftercare.clock import local_day_start
from aftercare.rules import message_keys
from aftercare.rules.care import TouchPoint, order_notice_params, order_notice_skip
from aftercare.rules.notices import masked_reach
from aftercare.settings import get_settings
from aftercare.store import care as store
from aftercare.store.outbox import enqueue, existing_keys
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("queue-order-notices")
def queue_order_notices(as_of: datetime) -> dict[str, int]:
    """Queue shipping, delivery, revisit and receipt-thanks notices for the orders due them."""
    settings = get_settings()
    care = settings.care
    day = as_of.astimezone(ZoneInfo(settings.timezone)).date()
    fresh = timedelta(hours=care.notice_max_age_hours)
    revisit = as_of - timedelta(days=care.revisit_days)
    thanks = as_of - timedelta(hours=care.confirmed_thanks_within_hours)
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        shipped, delivered = store.shipped_orders, store.delivered_orders
        plans = [
            (TouchPoint.SHIPPED, shipped(session=session, since=as_of - fresh, until=as_of)),
            (TouchPoint.DELIVERED, delivered(session=session, since=as_of - fresh, until=as_of)),
            (TouchPoint.REVISIT, delivered(session=session, since=revisit - fresh, until=revisit)),
            (
                TouchPoint.CONFIRMED,
                store.confirmed_orders(session=session, since=thanks, until=as_of),
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
                order = who.order()
                rows.append(
                    store.care_message(
                        session=session,
                        who=who,
                        touchpoint=touchpoint,
                        care=rules,
                        key=key,
                        params=order_notice_params(touchpoint, order),
                        day=day,
                        now=as_of,
                        by_oaid=masked_reach(settings.channels, who.shop_code, "care"),
                        suppressed_because=order_notice_skip(
                            touchpoint, order, rules.auto_confirm_days
                        ),
                    )
                )
            enqueue(session=session, rows=rows)
            counts.update(store.outcome_counts(rows, touchpoint))
    return dict(counts)


@pipeline_task("care-sent-today")
def care_sent_today(as_of: datetime) -> dict[str, int]:
    """Count the care messages sent today (local), by touch-point."""
    settings = get_settings()
    start = local_day_start(as_of, settings.timezone)
    with session_scope(settings.database_url) as session:
        return store.sent_since(session=session, since=start)
