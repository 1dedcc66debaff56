"""Serve every pipeline's deployment from one process, on its schedule (single-machine set-up)."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.bad_review_followups import bad_review_followups
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.record_followup import record_followup
from flows.unpaid_reminders import unpaid_order_reminders

TIMEZONE = "Asia/Shanghai"


def main() -> None:
    """Register the deployments and run them on schedule until interrupted."""
    serve(
        logistics_check.to_deployment(
            name="scheduled",
            schedules=[Cron("0 */2 * * *", timezone=TIMEZONE)],
            tags=["pipeline:logistics"],
            concurrency_limit=1,
        ),
        unpaid_order_reminders.to_deployment(
            name="scheduled",
            schedules=[Cron("*/5 * * * *", timezone=TIMEZONE)],
            tags=["pipeline:reminders"],
            concurrency_limit=1,
        ),
        bad_review_followups.to_deployment(
            name="scheduled",
            schedules=[Cron("*/30 9-18 * * *", timezone=TIMEZONE)],
            tags=["pipeline:reviews"],
            concurrency_limit=1,
        ),
        dispatch_messages.to_deployment(
            name="scheduled",
            schedules=[Cron("*/5 * * * *", timezone=TIMEZONE)],
            tags=["pipeline:outbox"],
            concurrency_limit=1,
        ),
        # Triggered by agents (UI, `prefect deployment run`, or `aftercare followup record`).
        record_followup.to_deployment(name="manual", tags=["pipeline:reviews"]),
    )


if __name__ == "__main__":
    main()
