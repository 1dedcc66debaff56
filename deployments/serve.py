"""Serve every pipeline's deployment from one process, on its schedule (single-machine set-up)."""

from __future__ import annotations

from typing import Any

from prefect import Flow, serve
from prefect.schedules import Cron

from flows.bad_review_followups import bad_review_followups
from flows.care_messages import care_messages
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.new_product_preview import new_product_preview
from flows.record_followup import record_followup
from flows.unpaid_reminders import unpaid_order_reminders

TIMEZONE = "Asia/Shanghai"


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


def main() -> None:
    """Register the deployments and run them on schedule until interrupted."""
    serve(
        scheduled(logistics_check, "0 */2 * * *", "logistics"),
        scheduled(unpaid_order_reminders, "*/5 * * * *", "reminders"),
        scheduled(bad_review_followups, "*/30 9-18 * * *", "reviews"),
        scheduled(care_messages, "15 * * * *", "care"),
        scheduled(dispatch_messages, "*/5 * * * *", "outbox"),
        # Triggered by people (UI, `prefect deployment run`, or the aftercare CLI).
        manual(record_followup, "reviews"),
        manual(new_product_preview, "care"),
    )


if __name__ == "__main__":
    main()
