"""Runs asked of Prefect when an event makes work due at a known minute."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound

from aftercare.rules.platform_events import due_minutes
from tasks.policy import pipeline_task

REMINDERS = "unpaid-order-reminders/scheduled"


@pipeline_task("schedule-due-reminders")
def schedule_due_reminders(due: list[datetime], as_of: datetime) -> int:
    """Ask for a reminders run at each minute a first reminder falls due; return how many.

    One run per minute whatever the number of orders (the idempotency key is the minute), so
    a reminder goes out at its due minute, not at the next scheduled run. Without a served
    deployment (a one-off run) nothing is asked: the scheduled runs still find every order.
    """
    asked = 0
    for minute in due_minutes(due, as_of, timedelta(hours=6)):
        try:
            run_deployment(
                REMINDERS,
                scheduled_time=minute,
                idempotency_key=f"reminders-due-{minute:%Y%m%d%H%M}",
                timeout=0,
                as_subflow=False,
            )
        except ObjectNotFound:
            return asked
        asked += 1
    return asked
