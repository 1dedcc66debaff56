"""Tracking by subscription: drain the courier's push inbox into scans, statuses and cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prefect import get_run_logger

from aftercare.clients.errors import (
    MalformedResponse,
)
from aftercare.clients.kuaidi100 import TrackingResult, parse_push
from aftercare.settings import get_settings
from aftercare.store import inbox
from aftercare.store.parcel_review import review_parcels
from aftercare.store.shipments import (
    CheckOutcome,
    record_checks,
)
from models.db import session_scope
from tasks.policy import pipeline_task

_NO_SCAN = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class _Latest:
    """The newest push of one waybill in a batch (each push carries the whole history)."""

    push_id: int
    status: str
    result: TrackingResult | None

    def order(self) -> tuple[datetime, int]:
        """Rank pushes by their own newest scan, then by arrival (a retried push comes late)."""
        events = self.result.events if self.result else ()
        return (events[-1].occurred_at if events else _NO_SCAN, self.push_id)


@pipeline_task("drain-pushes", run_name="drain-pushes-{label}")
def drain_pushes(as_of: datetime, label: str) -> dict[str, int]:
    """Turn one batch of stored pushes into scans, statuses and cases; bad ones keep a reason."""
    settings = get_settings()
    logger = get_run_logger()
    owner = f"drain-{uuid.uuid4().hex[:12]}"
    lease = timedelta(minutes=settings.logistics.claim_lease_minutes)
    with session_scope(settings.database_url) as session:
        pushes = inbox.claim_pushes(
            session=session,
            now=as_of,
            owner=owner,
            lease=lease,
            limit=settings.logistics.drain_batch_size,
        )
    errors: dict[int, str | None] = {}
    latest: dict[tuple[str, str], _Latest] = {}
    for push in pushes:
        push_id = push.id or 0
        try:
            notice = parse_push(push.param)
        except MalformedResponse as error:
            errors[push_id] = error.message
            logger.warning(
                "push %s (waybill %s) unreadable: %s", push_id, push.waybill, error.message
            )
            continue
        errors[push_id] = None
        result = notice.result
        key = (result.courier, result.waybill) if result else (push.courier, push.waybill)
        candidate = _Latest(push_id, notice.status, result)
        if key not in latest or latest[key].order() < candidate.order():
            latest[key] = candidate
    with session_scope(settings.database_url) as session:
        ids = inbox.shipments_by_waybill(session=session, keys=set(latest))
        known = {key: item for key, item in latest.items() if key in ids}
        outcomes = [
            CheckOutcome(ids[key], result=item.result, pushed=True)
            for key, item in known.items()
            if item.result is not None
        ]
        counts = {"checked": 0, "failed": 0}
        reviewed: dict[str, int] = {}
        if outcomes:
            # Recorded and reviewed in the pushes' own transaction, as track-shipments does.
            counts = record_checks(
                session=session, outcomes=outcomes, now=as_of, thresholds=settings.logistics
            )
            reviewed = review_parcels(
                session=session,
                ids=[o.shipment_id for o in outcomes],
                as_of=as_of,
                thresholds=settings.logistics,
                channels=settings.channels,
            )
        # "3天查询无记录" / "60天无变化": Kuaidi100 stopped; subscribe again 30 minutes later.
        inbox.mark_aborted(
            session=session,
            shipment_ids=[ids[key] for key, item in known.items() if item.status == "abort"],
            resubscribe_at=as_of + timedelta(minutes=settings.logistics.resubscribe_after_minutes),
        )
        for key, item in latest.items():
            if key not in ids:
                errors[item.push_id] = f"no shipment {key[0]} {key[1]} on file"
        inbox.finish_pushes(session=session, errors=errors, owner=owner, now=as_of)
    return {
        **reviewed,
        "checked": counts["checked"],
        "check_failed": sum(1 for e in errors.values() if e),
        "older_news": counts.get("older_news", 0),  # late pushes kept, status left alone
        "pushes": len(pushes),
    }
