"""Opening a case for each new neutral or bad review, and telling staff about it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from aftercare.rules import message_keys
from aftercare.rules.notices import sms_blocker
from aftercare.rules.reviews import (
    OrderFacts,
    alert_line,
    case_summary,
    classify,
    explanation_deadline,
    first_contact_at,
    load_causes,
)
from aftercare.settings import get_settings
from aftercare.shop_context import shop_context
from aftercare.store import reviews as store
from aftercare.store.alerts import queue_alerts
from aftercare.store.outbox import Recipient, enqueue, message_row
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("open-review-cases")
def open_review_cases(as_of: datetime) -> dict[str, int]:
    """Open one case per new neutral or bad review, with its cause, and queue the first message."""
    settings = get_settings()
    causes = load_causes(settings.reviews.causes_file)
    window_days = settings.reviews.explanation_window_days
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        rows, plans = [], {}
        for item in store.reviews_without_case(session=session, limit=5000):
            review, shop = item.review, shop_context(settings, item.shop_code, item.shop_timezone)
            facts = OrderFacts(item.had_logistics_case, item.had_other_case)
            cause = classify(review.content, facts, causes)
            first = first_contact_at(cause, review.rated_at, as_of, shop.working_hours)
            plans[review.id] = (
                item,
                cause,
                first,
                shop.reviews.message_buyer,
                shop.reach(item.oaid, "review"),
            )
            rows.append(
                store.case_row(
                    item,
                    cause=cause.name,
                    summary=case_summary(cause, review.content),
                    first_contact=first,
                    deadline=explanation_deadline(review.rated_at, window_days),
                    now=as_of,
                )
            )
        opened = store.open_cases(session=session, rows=rows, now=as_of) if rows else {}
        messages = []
        for review_id, case_id in opened.items():
            item, cause, first, message_buyer, oaid = plans[review_id]
            counts[f"cause:{cause.name}"] += 1
            if not message_buyer:
                continue
            blocked = sms_blocker(item.phone, item.phone_masked, True, oaid)
            row = message_row(
                key=message_keys.review_first_contact(item.shop_code, item.review.oid),
                template="review_first_contact",
                params={"shop": item.shop_name, "item": item.review.item_title[:20]},
                recipient=Recipient(
                    item.review.shop_id,
                    item.customer_id,
                    item.review.order_id,
                    item.phone,
                    blocked,
                    oaid,
                ),
                now=as_of,
                case_id=case_id,
            )
            if not blocked:
                row["next_attempt_at"] = first
            messages.append(row)
        enqueue(session=session, rows=messages)
    counts["opened"] = len(opened)
    return dict(counts)


@pipeline_task("queue-review-alerts")
def queue_review_alerts(as_of: datetime) -> int:
    """Queue a staff alert line for each review case staff have not been told about yet."""
    settings = get_settings()
    causes = {c.name: c for c in load_causes(settings.reviews.causes_file)}
    with session_scope(settings.database_url) as session:
        fresh = [c for c in store.open_review_cases(session=session) if c.case.alerted_at is None]
        # Claimed first: an overlapping run must not queue the same cases again.
        claimed = store.claim_alerts(
            session=session, case_ids=[i.case.id for i in fresh if i.case.id], now=as_of
        )
        rows = [
            {
                "dedupe_key": f"review-case:{i.case.id}",
                "topic": i.shop_code,
                "heading": "{topic} 新中差评 {count} 条，请今天内电话跟进",
                "line": alert_line(
                    i.case.id,
                    i.review.first_result,
                    causes[i.case.cause or "mood"],
                    i.review.buyer_nick,
                    i.review.content,
                    i.case.deadline_at,
                ),
            }
            for i in fresh
            if i.case.id in claimed and i.case.deadline_at
        ]
        return queue_alerts(session=session, rows=rows, now=as_of)
