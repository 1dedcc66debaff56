"""Serve every pipeline's deployment from one process, on its schedule (single-machine set-up)."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check

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
        dispatch_messages.to_deployment(
            name="scheduled",
            schedules=[Cron("*/5 8-22 * * *", timezone=TIMEZONE)],
            tags=["pipeline:outbox"],
            concurrency_limit=1,
        ),
    )


if __name__ == "__main__":
    main()
