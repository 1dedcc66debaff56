"""Flow `daily-after-sales-report`: the evening check of every shop's after-sales (seed 002)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from aftercare.settings import get_settings
from aftercare.store.report import daily_figures, render_markdown
from flows.common import run_name, start_run
from models.db import session_scope

REPORT_KEY = "daily-after-sales-report"


@task(name="collect-daily-figures", cache_policy=NO_CACHE)
def collect_daily_figures(start: datetime, end: datetime) -> dict[str, object]:
    """Read the day's figures from every pipeline's tables."""
    with session_scope(get_settings().database_url) as session:
        return daily_figures(session=session, start=start, end=end)


@flow(name="daily-after-sales-report", flow_run_name=run_name("daily-after-sales-report"))
def daily_after_sales_report(as_of: datetime | None = None) -> dict[str, object]:
    """Write the day's report as a keyed markdown artifact, so the UI keeps its history."""
    now = start_run(as_of)
    zone = ZoneInfo(get_settings().timezone)
    day = now.astimezone(zone).date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    figures = collect_daily_figures(start, start + timedelta(days=1))
    create_markdown_artifact(
        key=REPORT_KEY,
        markdown=render_markdown(str(day), figures),
        description=f"after-sales report for {day}",
    )
    return figures
