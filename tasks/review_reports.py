"""What agents and the shop see of review follow-ups: the day's call list, the weekly summary."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from aftercare.clock import CHINA, local_day_start
from aftercare.display import markdown_text
from aftercare.privacy import mask_name, mask_phone
from aftercare.rules.reviews import CALLS, load_causes
from aftercare.settings import get_settings
from aftercare.store import reviews as store
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("review-call-list")
def call_list(as_of: datetime) -> list[dict[str, Any]]:
    """Return today's calls: every open case whose next contact is due by the end of the day."""
    settings = get_settings()
    causes = {c.name: c for c in load_causes(settings.reviews.causes_file)}
    end_of_day = local_day_start(as_of, settings.timezone, days=1)
    with session_scope(settings.database_url) as session:
        cases = store.open_review_cases(session=session)
        phones = store.order_phones(
            session=session, order_ids={c.review.order_id for c in cases if c.review.order_id}
        )
    rows = []
    for item in cases:
        case, review = item.case, item.review
        if (
            case.next_action not in CALLS
            or not case.next_action_at
            or case.next_action_at >= end_of_day
        ):
            continue
        cause = causes[case.cause or "mood"]
        rows.append(
            {
                "case": case.id,
                "shop": item.shop_code,
                # Every string cell of a table artifact is rendered as markdown: buyers' text
                # is made literal.
                "buyer": markdown_text(mask_name(review.buyer_nick), 40),
                "phone": markdown_text(mask_phone(phones.get(review.order_id or 0)), 40)
                or "（号码不可见，旺旺联系）",
                "rating": review.result,
                "cause": cause.label,
                "next": case.next_action,
                "when": f"{case.next_action_at.astimezone(CHINA):%m-%d %H:%M}",
                "script": cause.script,
                "remedy": cause.remedy
                + (
                    f"；补偿：{settings.reviews.for_shop(item.shop_code).compensation}"
                    if case.next_action == "offer_compensation"
                    else ""
                ),
                "deadline": f"{case.deadline_at.astimezone(CHINA):%m-%d %H:%M}"
                if case.deadline_at
                else "",
            }
        )
    return sorted(rows, key=lambda r: (r["when"], r["case"]))


@pipeline_task("review-weekly-summary")
def weekly_summary(as_of: datetime) -> dict[str, Any]:
    """Summarise this week's review cases: causes, recovery, explanations, quality by item."""
    settings = get_settings()
    today = local_day_start(as_of, settings.timezone)
    week_start = local_day_start(today, settings.timezone, days=-today.weekday())
    causes = {c.name: c.label for c in load_causes(settings.reviews.causes_file)}
    with session_scope(settings.database_url) as session:
        rows, explained = store.cases_opened_since(session=session, since=week_start)
    by_cause = Counter(causes.get(c.cause or "", c.cause or "?") for c, _ in rows)
    recovered = sum(1 for c, _ in rows if (c.close_reason or "").startswith("recovered"))
    quality = Counter(r.item_title for c, r in rows if c.cause == "quality")
    return {
        "week_of": str(week_start.date()),
        "cases": len(rows),
        "by_cause": dict(by_cause.most_common()),
        "recovered": recovered,
        "recovery_rate": round(recovered / len(rows), 3) if rows else 0.0,
        "explanations_posted": explained,
        "quality_complaints_by_item": dict(quality.most_common()),
    }
