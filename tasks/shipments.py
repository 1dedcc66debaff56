"""Parcel checks: claim the due ones, ask the courier, review what changed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from prefect import get_run_logger

from aftercare.courier_checks import check_parcel
from aftercare.memory import release_freed_memory
from aftercare.settings import get_settings
from aftercare.store.parcel_review import review_parcels
from aftercare.store.shipments import (
    claim_due_shipments,
    load_for_check,
    record_checks,
)
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task


@pipeline_task("claim-due-shipments")
def claim_shipments(as_of: datetime, owner: str, limit: int) -> list[int]:
    """Claim every parcel due for a check (at most limit) for this run."""
    settings = get_settings()
    lease = timedelta(minutes=settings.logistics.claim_lease_minutes)
    with session_scope(settings.database_url) as session:
        return claim_due_shipments(
            session=session, now=as_of, owner=owner, lease=lease, limit=limit
        )


@pipeline_task("track-shipments", run_name="track-shipments-{label}")
def track_shipments(ids: list[int], as_of: datetime, label: str) -> dict[str, int]:
    """Query the courier for a chunk of parcels, record the answers and review them."""
    settings = get_settings()
    logger = get_run_logger()
    courier = limits.kuaidi100(settings)
    with session_scope(settings.database_url) as session:
        parcels = load_for_check(session=session, ids=ids)
    # A few queries in flight per chunk hide the courier's latency; the rate limiter keeps the
    # whole process within the account's ceiling.
    with ThreadPoolExecutor(settings.logistics.queries_in_flight_per_chunk) as pool:
        outcomes = list(pool.map(lambda parcel: check_parcel(courier, parcel), parcels))
    failed: dict[str, list[str]] = {}
    for parcel, outcome in zip(parcels, outcomes, strict=True):
        if outcome.error:
            failed.setdefault(outcome.error, []).append(parcel.waybill)
    if failed:
        # One line per chunk, not one per parcel (that was a tenth of a check's CPU); every
        # parcel also keeps its reason on its row.
        logger.warning("%s: checks failed: %s", label, _by_reason(failed))
    # One transaction: a run that dies between recording and reviewing would leave parcels
    # checked (not due again for hours, or never once delivered) with their cases unopened.
    with session_scope(settings.database_url) as session:
        counts = record_checks(
            session=session, outcomes=outcomes, now=as_of, thresholds=settings.logistics
        )
        reviewed = review_parcels(
            session=session,
            ids=ids,
            as_of=as_of,
            thresholds=settings.logistics,
            channels=settings.channels,
        )
    logger.info("%s: %d checked, %d failed", label, counts["checked"], counts["failed"])
    release_freed_memory()  # the chunk's query threads are gone; their arenas keep the memory
    return {**reviewed, "checked": counts["checked"], "check_failed": counts["failed"]}


def _by_reason(failed: dict[str, list[str]], shown: int = 20) -> str:
    """List the waybills of each reason (the first few), e.g. 'reason: YT1, YT2 (+3 more)'."""
    parts = []
    for reason, waybills in sorted(failed.items(), key=lambda item: -len(item[1])):
        more = f" (+{len(waybills) - shown} more)" if len(waybills) > shown else ""
        parts.append(f"{reason}: {', '.join(waybills[:shown])}{more}")
    return "; ".join(parts)
