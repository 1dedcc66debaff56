"""Flow `parcel-pushes`: every minute, the courier's pushes drained and urgent parcels told."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import add_counts, publish_report, run_name, start_run
from flows.logistics_check import drain_inbox
from tasks.alerts import post_staff_alerts
from tasks.parcel_alerts import queue_parcel_alerts


@flow(name="parcel-pushes", flow_run_name=run_name("parcel-pushes"))
def parcel_pushes(as_of: datetime | None = None) -> dict[str, int]:
    """Drain the push inbox into scans and cases, and tell staff about urgent parcels at once.

    A refused or returning parcel is known within a minute of its scan, not at the next
    two-hourly logistics-check.
    """
    now = start_run(as_of)
    drained = add_counts(drain_inbox(now))
    queued = queue_parcel_alerts(now)
    posted = post_staff_alerts(now)
    figures = {
        **{f"push:{k}": v for k, v in sorted(drained.items())},
        "staff_alerts_queued": queued,
        **{f"staff_alerts:{k}": v for k, v in sorted(posted.items())},
    }
    publish_report("parcel-pushes", now, figures, key="parcel-pushes")
    return figures
