"""Serve every pipeline's deployment from one process, on its schedule (single-machine set-up)."""

from __future__ import annotations

from typing import Any

from prefect import Flow, serve
from prefect.schedules import Cron

from flows.bad_review_followups import bad_review_followups
from flows.care_messages import care_messages
from flows.daily_report import daily_after_sales_report
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.new_product_preview import new_product_preview
from flows.parcel_pushes import parcel_pushes
from flows.platform_events import platform_events
from flows.purge_personal_data import purge_personal_data
from flows.recheck_shipments import recheck_shipments
from flows.record_followup import record_followup
from flows.refunds_and_returns import refunds_and_returns
from flows.replay_pipeline import replay_pipeline
from flows.resend_failed_messages import resend_failed_messages
from flows.resync_window import resync_window
from flows.staff_alert import staff_alert
from flows.unpaid_reminders import unpaid_order_reminders

TIMEZONE = "Asia/Shanghai"
# The same schedules as prefect.yaml (Shanghai time): flow, cron, pipeline tag.
SCHEDULED: list[tuple[Flow[Any, Any], str, str]] = [
    (logistics_check, "0 */2 * * *", "logistics"),
    (unpaid_order_reminders, "*/5 * * * *", "reminders"),
    (bad_review_followups, "*/30 9-18 * * *", "reviews"),
    (care_messages, "15 * * * *", "care"),
    (dispatch_messages, "*/5 * * * *", "outbox"),
    (daily_after_sales_report, "30 21 * * *", "report"),
    (purge_personal_data, "40 3 * * *", "privacy"),
    # The platform's messages, every minute (a run does nothing while events are off).
    (platform_events, "* * * * *", "events"),
    # The courier's pushes drained, urgent parcels told to staff, within a minute of the scan.
    (parcel_pushes, "* * * * *", "logistics"),
    # Refunds synced and their timers watched: a 2-hour warning needs a run well within it.
    (refunds_and_returns, "*/10 * * * *", "refunds"),
]
# Triggered by people (UI, `prefect deployment run`, the aftercare CLI) or by automations.
MANUAL: list[tuple[Flow[Any, Any], str]] = [
    (record_followup, "reviews"),
    (new_product_preview, "care"),
    (resync_window, "recovery"),
    (recheck_shipments, "recovery"),
    (resend_failed_messages, "recovery"),
    (replay_pipeline, "recovery"),
    (staff_alert, "alerts"),
]


def scheduled(flow: Flow[Any, Any], cron: str, pipeline: str) -> Any:
    """A deployment on a cron schedule in Shanghai time that never overlaps itself."""
    return flow.to_deployment(
        name="scheduled",
        schedules=[Cron(cron, timezone=TIMEZONE)],
        tags=[f"pipeline:{pipeline}"],
        concurrency_limit=1,
    )


def manual(flow: Flow[Any, Any], pipeline: str) -> Any:
    """A deployment without a schedule, triggered by people."""
    return flow.to_deployment(name="manual", tags=[f"pipeline:{pipeline}"])


def all_deployments() -> list[Any]:
    """Every deployment of the project."""
    return [scheduled(*spec) for spec in SCHEDULED] + [manual(*spec) for spec in MANUAL]


def main() -> None:
    """Register the deployments and run them on schedule until interrupted."""
    serve(*all_deployments())


if __name__ == "__main__":
    main()
