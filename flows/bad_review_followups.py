"""Flow `bad-review-followups` (中差评二次跟进): every neutral or bad review followed to its end."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from aftercare.display import markdown_text
from flows.common import add_counts, run_name, start_run
from tasks.alerts import post_staff_alerts
from tasks.review_reports import call_list, weekly_summary
from tasks.reviews import open_review_cases, queue_review_alerts, settle_review_cases, sync_ratings
from tasks.shops import list_shops
from tasks.trades import sync_trades


@flow(name="bad-review-followups", flow_run_name=run_name("bad-review-followups"))
def bad_review_followups(
    as_of: datetime | None = None, shops: list[str] | None = None
) -> dict[str, object]:
    """Sync ratings, open a case per new bad review, alert staff, settle cases, list the calls."""
    now = start_run(as_of)
    shop_list = list_shops(shops)
    # Orders first: the cause of a review is judged against the order's own history.
    for future in [sync_trades.submit(s, now) for s in shop_list]:
        future.result()
    synced = add_counts(f.result() for f in [sync_ratings.submit(s, now) for s in shop_list])
    opened = open_review_cases(now)
    # Alerts are queued, and posted after the cases are settled: a robot outage on deadline
    # day must not hold back the explanations.
    queued = queue_review_alerts(now)
    settled = settle_review_cases(now)
    posted = post_staff_alerts(now)
    calls = call_list(now)
    week = weekly_summary(now)

    create_table_artifact(
        key="review-call-list",
        table=calls or [{"case": "-", "note": "no calls due today"}],
        description=f"中差评 call list for {now:%Y-%m-%d} (buyers masked)",
    )
    lines = [f"- {cause}: {count}" for cause, count in week["by_cause"].items()]
    items = [
        f"- {markdown_text(item, 80)}: {count}"
        for item, count in week["quality_complaints_by_item"].items()
    ]
    create_markdown_artifact(
        key="review-weekly-summary",
        markdown=(
            f"# 中差评 week of {week['week_of']}\n\n"
            f"cases opened: {week['cases']}; recovered: {week['recovered']} "
            f"({week['recovery_rate']:.0%}); explanations posted: {week['explanations_posted']}\n\n"
            "## causes\n" + ("\n".join(lines) or "- none") + "\n\n"
            "## quality complaints by item (for purchasing)\n" + ("\n".join(items) or "- none")
        ),
        description="weekly review follow-up summary",
    )
    return {
        "new_ratings": synced["new"],
        "rejected_ratings": synced["rejected"],
        "cases_opened": opened.get("opened", 0),
        "staff_alerts_queued": queued,
        "staff_alerts": posted,
        "settled": settled,
        "calls_today": len(calls),
        "week": week,
    }
