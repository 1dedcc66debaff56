"""Parcel checks: claim the due ones, ask the courier, review what changed."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from prefect import get_run_logger
from sqlmodel import Session

from aftercare import clients
from aftercare.clients.errors import AuthenticationError, ProviderError
from aftercare.clients.kuaidi100 import WaybillLocked
from aftercare.memory import release_freed_memory
from aftercare.rules import message_keys
from aftercare.rules.anomalies import detect_anomalies
from aftercare.rules.cases import plan_cases
from aftercare.rules.notices import sms_blocker
from aftercare.rules.tracking import ShipmentStatus
from aftercare.settings import get_settings
from aftercare.store.cases import apply_changes, load_parcels
from aftercare.store.outbox import Recipient, enqueue, message_row
from aftercare.store.shipments import (
    CheckOutcome,
    ShipmentToCheck,
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
        outcomes = list(pool.map(lambda parcel: _check(courier, parcel), parcels))
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
        reviewed = review_parcels(session=session, ids=ids, as_of=as_of)
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


def _check(courier: clients.Kuaidi100Client, parcel: ShipmentToCheck) -> CheckOutcome:
    code, detected = parcel.courier, None
    try:
        if code is None:
            # A name our table does not know: Kuaidi100 recognises the number itself (free).
            detected = next(iter(courier.detect_courier(parcel.waybill)), None)
            if detected is None:
                return CheckOutcome(
                    parcel.id,
                    error=f"unknown courier {parcel.courier_name}: "
                    "Kuaidi100 does not recognise the waybill either",
                    queried=False,
                )
            code = detected
        result = courier.query(
            code, parcel.waybill, phone=parcel.phone, destination=parcel.destination
        )
    except AuthenticationError:
        raise  # every other parcel would fail the same way: stop and let the run fail loudly
    except WaybillLocked as error:
        return CheckOutcome(
            parcel.id,
            error=error.reason,
            retry_after=timedelta(minutes=31),
            detected_courier=detected,
        )
    except ProviderError as error:
        return CheckOutcome(parcel.id, error=error.reason, detected_courier=detected)
    return CheckOutcome(parcel.id, result=result, detected_courier=detected)


def review_parcels(*, session: Session, ids: list[int], as_of: datetime) -> dict[str, int]:
    """Detect anomalies of just-recorded parcels, open or update cases, queue buyer notices."""
    settings = get_settings()
    counts: Counter[str] = Counter()
    parcels = load_parcels(session=session, ids=ids)
    plans = []
    for parcel in parcels:
        anomalies = detect_anomalies(parcel.facts, as_of, settings.logistics)
        counts.update(f"anomaly:{a.kind}" for a in anomalies)
        delivered = parcel.facts.status is ShipmentStatus.DELIVERED
        observed = parcel.facts.check_failures == 0
        plans.append((parcel, plan_cases(parcel.cases, anomalies, delivered, observed)))
        counts.update(f"case:{c.action}" for c in plans[-1][1].changes)
    case_ids = apply_changes(
        session=session, plans=[(p, plan.changes) for p, plan in plans], now=as_of
    )
    rows = []
    for parcel, plan in plans:
        recipient = Recipient(
            shop_id=parcel.shop_id,
            customer_id=parcel.customer_id,
            order_id=parcel.order_id,
            phone=parcel.phone,
            blocked_because=sms_blocker(parcel.phone, parcel.phone_masked, parcel.sms_enabled),
        )
        for notice in plan.notices:
            rows.append(
                message_row(
                    key=message_keys.logistics_notice(
                        parcel.shop_code,
                        parcel.courier_name,
                        parcel.waybill,
                        notice.kind,
                        notice.severity,
                    ),
                    template=notice.template,
                    params={
                        "shop": parcel.shop_name,
                        "courier": parcel.courier_name,
                        "waybill": parcel.waybill,
                    },
                    recipient=recipient,
                    now=as_of,
                    case_id=case_ids.get(parcel.case_key(notice.kind)),
                    suppressed_because=notice.suppressed_reason,
                    # A parcel in trouble is news the buyer should get without delay.
                    urgent=True,
                )
            )
    counts["notices:new"] += enqueue(session=session, rows=rows)
    return dict(counts)
