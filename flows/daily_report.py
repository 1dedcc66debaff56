"""Flow `daily-after-sales-report`: the evening check of every shop's after-sales, for the lead."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from aftercare.clock import local_day_start
from aftercare.report_view import shop_report, team_report
from aftercare.rules.report import DayFigures, daily_trend, report_days
from aftercare.settings import get_settings
from aftercare.store.report import daily_figures, report_facts, shop_names
from flows.common import run_name, start_run
from models.db import session_scope
from tasks.policy import pipeline_task

REPORT_KEY = "daily-after-sales-report"
TREND_DAYS = 14


@pipeline_task("collect-daily-figures")
def collect_daily_figures(start: datetime, end: datetime) -> dict[str, object]:
    """Read the day's figures from every pipeline's tables."""
    with session_scope(get_settings().database_url) as session:
        return daily_figures(session=session, start=start, end=end)


@pipeline_task("collect-trend")
def collect_trend(last: datetime, zone: str) -> tuple[dict[str, str], dict[str, list[DayFigures]]]:
    """Read the last days' cases, messages and payments; return shop names and the trend."""
    tz = ZoneInfo(zone)
    days = report_days(last.astimezone(tz).date(), TREND_DAYS)
    start, end = local_day_start(days[0], tz), local_day_start(days[-1], tz, days=1)
    with session_scope(get_settings().database_url) as session:
        names = shop_names(session=session)
        cases, messages, payments = report_facts(session=session, start=start, end=end)
    return names, daily_trend(days, tz, cases, messages, payments)


@flow(name="daily-after-sales-report", flow_run_name=run_name("daily-after-sales-report"))
def daily_after_sales_report(as_of: datetime | None = None) -> dict[str, object]:
    """Write the team's report and one per shop as keyed markdown artifacts (the UI keeps
    their history): today per shop, 14-day trends as charts, the day's detail."""
    now = start_run(as_of)
    zone = ZoneInfo(get_settings().timezone)
    day = now.astimezone(zone).date()
    start = local_day_start(day, zone)
    figures = collect_daily_figures(start, start + timedelta(days=1))
    names, trend = collect_trend(now, get_settings().timezone)
    create_markdown_artifact(
        key=REPORT_KEY,
        markdown=team_report(day, names, trend, figures),
        description=f"售后日报 {day}（全部店铺）",
    )
    for code, name in names.items():
        create_markdown_artifact(
            key=f"{REPORT_KEY}-{re.sub(r'[^a-z0-9-]', '-', code.lower())}",
            markdown=shop_report(day, name, trend.get(code) or trend_of_nothing(trend)),
            description=f"售后日报 {day}（{name}）",
        )
    return figures


def trend_of_nothing(trend: dict[str, list[DayFigures]]) -> list[DayFigures]:
    """A shop with nothing in the window: the same days, every figure zero."""
    return [DayFigures(page.day) for page in next(iter(trend.values()))]
