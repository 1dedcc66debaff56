"""Telling staff about urgent parcel cases as soon as they open."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftercare.rules.parcel_alerts import HEADING, URGENT_KINDS, parcel_alert_line
from aftercare.settings import get_settings
from aftercare.store.alerts import queue_alerts
from aftercare.store.cases import unalerted_parcel_cases
from aftercare.store.reviews import claim_alerts
from models.db import session_scope
from tasks.policy import pipeline_task

# Cases older than this were opened before these alerts existed: never alerted in a burst.
RECENT = timedelta(days=1)


@pipeline_task("queue-parcel-alerts")
def queue_parcel_alerts(as_of: datetime) -> int:
    """Queue a staff alert line for each new urgent parcel case; return how many were queued."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        fresh = unalerted_parcel_cases(session=session, kinds=URGENT_KINDS, since=as_of - RECENT)
        # Claimed first: an overlapping run must not queue the same cases again.
        claimed = claim_alerts(session=session, case_ids=[c.case_id for c in fresh], now=as_of)
        rows = [
            {
                "dedupe_key": f"parcel-case:{c.case_id}",
                "topic": c.shop_code,
                "heading": HEADING,
                "line": parcel_alert_line(c.case_id, c.kind, c.courier_name, c.waybill),
            }
            for c in fresh
            if c.case_id in claimed
        ]
        return queue_alerts(session=session, rows=rows, now=as_of)
