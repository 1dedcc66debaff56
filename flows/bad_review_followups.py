"""Flow `bad-review-followups` (中差评二次跟进): every neutral or bad review followed to its end."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from aftercare.clock import CHINA
from aftercare.display import markdown_text
from aftercare.wording import CALL_COLUMNS, NEXT_ACTION_NAMES, RATING_NAMES
from flows.common import add_counts, run_name, start_run
from tasks.alerts import post_staff_alerts
from tasks.explanations import settle_review_cases
from tasks.ratings import sync_ratings
from tasks.review_cases import open_review_cases, queue_review_alerts
from tasks.review_reports import call_list, weekly_summary
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
        table=[call_row(call) for call in calls] or [{"案例": "-", "说明": "今天没有要打的电话"}],
        description=f"中差评回访清单 {now.astimezone(CHINA):%Y-%m-%d}（北京时间，买家已打码）",
    )
    create_markdown_artifact(
        key="review-weekly-summary",
        markdown=weekly_markdown(week),
        description="中差评本周小结",
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


def call_row(call: dict[str, Any]) -> dict[str, Any]:
    """One call of the list, in the team's words."""
    named = {
        **call,
        "rating": RATING_NAMES.get(call["rating"], call["rating"]),
        "next": NEXT_ACTION_NAMES.get(call["next"], call["next"]),
    }
    return {CALL_COLUMNS[k]: v for k, v in named.items() if k in CALL_COLUMNS}


def weekly_markdown(week: dict[str, Any]) -> str:
    """The week's review follow-ups for the lead: causes, recovery, quality by item."""
    lines = [f"- {markdown_text(cause, 40)}：{count}" for cause, count in week["by_cause"].items()]
    items = [
        f"- {markdown_text(item, 80)}：{count}"
        for item, count in week["quality_complaints_by_item"].items()
    ]
    return (
        f"# 中差评周报（{week['week_of']} 起的一周）\n\n"
        f"新开案例 {week['cases']} 个；改评 {week['recovered']} 个"
        f"（{week['recovery_rate']:.0%}）；公开解释 {week['explanations_posted']} 条\n\n"
        "## 原因\n" + ("\n".join(lines) or "- 无") + "\n\n"
        "## 质量问题按商品（给采购）\n" + ("\n".join(items) or "- 无")
    )
