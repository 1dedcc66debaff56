"""Flow `resend-failed-messages`: retry messages that failed in a window, never a sent one."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import given_time, publish_report, run_name, start_run
from flows.dispatch_messages import dispatch_messages
from tasks.recovery import requeue_failed


@flow(name="resend-failed-messages", flow_run_name=run_name("resend-failed-messages"))
def resend_failed_messages(
    start: datetime,
    end: datetime,
    purposes: list[str] | None = None,
    dry_run: bool = True,  # an operator sees what would happen before it does
    as_of: datetime | None = None,
) -> dict[str, int]:
    """Queue the window's failed messages again and send them through the dispatcher."""
    now = start_run(as_of)
    counts = requeue_failed(given_time(start), given_time(end), purposes or [], dry_run, now)
    if not dry_run and counts:
        counts = {**counts, **{f"dispatch {k}": v for k, v in dispatch_messages(as_of=now).items()}}
    publish_report("resend-failed-messages", now, dict(sorted(counts.items())), dry_run=dry_run)
    return counts
