"""Claiming due parcels and recording what the courier said about them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, update
from sqlalchemy import select as sa_select  # more than four columns
from sqlmodel import Session, col, select

from aftercare.clients.kuaidi100 import PHONE_REQUIRED, TrackingResult
from aftercare.rules.schedule import next_check_after_error, next_check_at
from aftercare.rules.sync import stamped_ahead
from aftercare.rules.tracking import (
    ShipmentStatus,
    base_state,
    is_expired,
    normalise_status,
    says_less,
    signed_by_proxy,
    state_note,
)
from aftercare.settings import LogisticsSettings
from aftercare.store.rejected import record_rejects
from models import AfterSalesCase, Order, Shipment, Shop, TrackingEvent
from models.db import claim, insert_ignore


@dataclass(frozen=True, slots=True)
class ShipmentToCheck:
    """What a courier query needs; the phone is only filled in where the courier demands one."""

    id: int
    courier: str | None
    courier_name: str
    waybill: str
    phone: str | None
    destination: str | None


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The courier's answer for one parcel, or why there is none."""

    shipment_id: int
    result: TrackingResult | None = None
    error: str | None = None
    queried: bool = True  # False when no request reached the courier (unknown courier)
    retry_after: timedelta | None = None
    pushed: bool = False  # the answer came as a subscription push, not from a query
    # The courier Kuaidi100 recognised the waybill as, when our table did not know the name.
    detected_courier: str | None = None


def due_shipments_query(now: datetime, limit: int) -> Select[Any]:
    """Select the ids of parcels due for a check: one range scan of an index."""
    return (
        select(Shipment.id)
        .where(col(Shipment.next_check_at) <= now)
        .order_by(col(Shipment.next_check_at))
        .limit(limit)
    )


def count_due_shipments(*, session: Session, now: datetime) -> int:
    """Count the parcels due a check."""
    due = due_shipments_query(now, 10**6).subquery()
    return int(session.exec(select(func.count()).select_from(due)).one())


def claim_due_shipments(
    *, session: Session, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[int]:
    """Take the parcels due for a check; a run that dies leaves them due again after the lease."""
    return claim(
        session,
        Shipment,
        candidates=due_shipments_query(now, limit),
        due=col(Shipment.next_check_at) <= now,
        values={"next_check_at": now + lease, "claimed_by": owner},
    )


def load_for_check(*, session: Session, ids: list[int]) -> list[ShipmentToCheck]:
    """Load what the courier queries need, in one query."""
    rows = session.execute(
        sa_select(
            Shipment,
            col(Order.receiver_phone),
            col(Order.phone_masked),
            col(Order.receiver_phone_tail),
            col(Shop.sender_phone),
        )
        .join(Order, col(Order.id) == Shipment.order_id)
        .join(Shop, col(Shop.id) == Shipment.shop_id)
        .where(col(Shipment.id).in_(ids))
        .order_by(col(Shipment.id))
    ).all()
    checks = []
    for shipment, receiver_phone, masked, tail, sender_phone in rows:
        phone = None
        if shipment.courier in PHONE_REQUIRED:
            # Kuaidi100 takes the receiver's or the sender's number, or its last four digits,
            # which a masked receiver number still shows.
            phone = (None if masked else receiver_phone) or tail or sender_phone or None
        destination = "".join(p for p in (shipment.province, shipment.city) if p) or None
        checks.append(
            ShipmentToCheck(
                shipment.id,
                shipment.courier,
                shipment.courier_name,
                shipment.waybill,
                phone,
                destination,
            )
        )
    return checks


def fingerprint(occurred_at: datetime, context: str) -> str:
    """Identify a scan by its time and text, so the same history can be read twice harmlessly."""
    return hashlib.sha1(f"{occurred_at.isoformat()}|{context}".encode()).hexdigest()


def record_checks(
    *,
    session: Session,
    outcomes: list[CheckOutcome],
    now: datetime,
    thresholds: LogisticsSettings,
) -> dict[str, int]:
    """Store scans and the new status of each parcel; failed checks are due again later."""
    known = {
        row[0]: row
        for row in session.execute(
            sa_select(
                col(Shipment.id),
                col(Shipment.shipped_at),
                col(Shipment.check_error_count),
                col(Shipment.subscription),
                col(Shipment.event_count),
                col(Shipment.last_event_at),
            ).where(col(Shipment.id).in_([o.shipment_id for o in outcomes]))
        ).all()
    }
    events: dict[tuple[int, str], dict[str, Any]] = {}
    updates: list[dict[str, Any]] = []
    rejects: list[tuple[str, str]] = []
    state_notes: list[tuple[str, str]] = []
    counts = {"checked": 0, "failed": 0}
    skew = timedelta(minutes=thresholds.scan_clock_skew_minutes)
    # The newest scan on record per parcel, moved on by each answer applied in this batch.
    on_record = {row[0]: row[5] for row in known.values()}
    for outcome in outcomes:
        change: dict[str, Any] = {"id": outcome.shipment_id, "claimed_by": None, "updated_at": now}
        if outcome.pushed:
            change["last_push_at"] = now
        elif outcome.queried:
            change["last_checked_at"] = now
        if outcome.detected_courier:
            # Kept even if this query failed: the next one (and pushes) use the code.
            change["courier"] = outcome.detected_courier
            change["subscribe_due_at"] = now
        try:
            if outcome.result is None:
                raise _CheckFailed(outcome.error or "no answer")
            result = _without_scans_ahead(outcome.result, now, skew, rejects)
            newest = result.events[-1].occurred_at if result.events else None
            if says_less(newest, on_record.get(outcome.shipment_id)):
                # Older news (a retried push, a late poll): its scans are facts and are kept,
                # but the status stays with the newest scan on record.
                counts["older_news"] = counts.get("older_news", 0) + 1
                updates.append(change)
                _collect_events(events, outcome.shipment_id, result)
                continue
            if note := state_note(result.state):
                state_notes.append((f"{result.courier}/{result.waybill}", note))
            shipped_at = known[outcome.shipment_id][1]
            change.update(_status_change(result, shipped_at, now, thresholds))
            if change["next_check_at"] is not None and known[outcome.shipment_id][3] == "active":
                # Pushes keep a subscribed parcel current: poll only when they go quiet.
                change["next_check_at"] = now + timedelta(hours=thresholds.push_quiet_hours)
        except _CheckFailed as failure:
            counts["failed"] += 1
            change.update(_failure_change(outcome, str(failure), now, thresholds))
            change["check_error_count"] = known[outcome.shipment_id][2] + 1
            updates.append(change)
            continue
        counts["checked"] += 1
        updates.append(change)
        if change["last_event_at"] is not None:
            on_record[outcome.shipment_id] = change["last_event_at"]
        _, _, _, _, stored_count, stored_last = known[outcome.shipment_id]
        if stored_count == change["event_count"] and stored_last == change["last_event_at"]:
            continue  # the same history as last time: nothing new to store
        _collect_events(events, outcome.shipment_id, result)
    insert_ignore(
        session, TrackingEvent, list(events.values()), keys=["shipment_id", "fingerprint"]
    )
    _update_by_id(session, updates)
    record_rejects(session=session, source="kuaidi100.scan", shop_id=None, rejects=rejects, now=now)
    record_rejects(
        session=session, source="kuaidi100.state", shop_id=None, rejects=state_notes, now=now
    )
    return counts


def _collect_events(
    events: dict[tuple[int, str], dict[str, Any]], shipment_id: int, result: TrackingResult
) -> None:
    for event in result.events:
        key = (shipment_id, fingerprint(event.occurred_at, event.context))
        events[key] = {
            "shipment_id": shipment_id,
            "occurred_at": event.occurred_at,
            "context": event.context,
            "status_text": event.status_text[:20],
            "status_code": (event.status_code or None) and event.status_code[:10],
            "area_name": (event.area_name or None) and event.area_name[:60],
            "fingerprint": key[1],
        }


def _without_scans_ahead(
    result: TrackingResult, now: datetime, skew: timedelta, rejects: list[tuple[str, str]]
) -> TrackingResult:
    """Leave out scans stamped beyond the clock skew (noted in rejects): they would make a
    stuck parcel look freshly scanned until that time."""
    kept = []
    for event in result.events:
        ahead = stamped_ahead({"scan": event.occurred_at}, now, skew)
        if ahead:
            key = f"{result.waybill}@{event.occurred_at:%Y-%m-%d %H:%M:%S}"
            rejects.append((key, f"{ahead}: left out of the parcel's history"))
        else:
            kept.append(event)
    if len(kept) == len(result.events):
        return result
    return replace(result, events=tuple(kept))


class _CheckFailed(Exception):
    pass


def _status_change(
    result: TrackingResult, shipped_at: datetime, now: datetime, thresholds: LogisticsSettings
) -> dict[str, Any]:
    latest = result.events[-1] if result.events else None
    status = normalise_status(
        result.state, latest.status_code if latest else None, len(result.events)
    )
    last_event_at = latest.occurred_at if latest else None
    if is_expired(status, shipped_at, last_event_at, now, thresholds.expired_days):
        status = ShipmentStatus.EXPIRED
    delivered = status is ShipmentStatus.DELIVERED
    return {
        "status": status.value,
        "courier_state": base_state(result.state),
        "event_count": len(result.events),
        "last_event_at": last_event_at,
        "delivered_at": last_event_at if delivered else None,
        "signed_by_proxy": delivered
        and signed_by_proxy(
            latest.status_code if latest else None, latest.context if latest else None
        ),
        "next_check_at": next_check_at(status, result.state, now, thresholds),
        "check_error": None,
        "check_error_count": 0,
    }


def _failure_change(
    outcome: CheckOutcome, reason: str, now: datetime, thresholds: LogisticsSettings
) -> dict[str, Any]:
    if not outcome.queried:  # nothing to ask the courier until someone fixes the data
        due = None
    elif outcome.retry_after is not None:
        due = now + outcome.retry_after
    else:
        due = next_check_after_error(now, thresholds)
    return {"check_error": reason[:500], "next_check_at": due}


def _update_by_id(session: Session, changes: list[dict[str, Any]]) -> None:
    # Rows differ in which columns change; group by column set so each group is one executemany.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        groups.setdefault(tuple(sorted(change)), []).append(change)
    for group in groups.values():
        session.execute(update(Shipment), group)


def subscriptions_due_query(now: datetime, limit: int) -> Select[Any]:
    """Select the ids of parcels to subscribe (or re-subscribe) for pushes."""
    return (
        select(Shipment.id)
        .where(col(Shipment.subscribe_due_at) <= now)
        .order_by(col(Shipment.subscribe_due_at))
        .limit(limit)
    )


def claim_subscriptions(
    *, session: Session, now: datetime, lease: timedelta, limit: int
) -> list[ShipmentToCheck]:
    """Take the parcels due a subscription; a run that dies leaves them due after the lease."""
    ids = claim(
        session,
        Shipment,
        candidates=subscriptions_due_query(now, limit),
        due=col(Shipment.subscribe_due_at) <= now,
        values={"subscribe_due_at": now + lease},
    )
    return load_for_check(session=session, ids=ids) if ids else []


def record_subscriptions(
    *, session: Session, outcomes: dict[int, str], now: datetime, retry_at: datetime
) -> None:
    """Store how each subscription went: active, refused (poll only), or retry later."""
    for shipment_id, outcome in outcomes.items():
        values: dict[str, Any] = {"subscribe_due_at": None}
        if outcome == "active":
            values.update(subscription="active", subscribed_at=now)
        elif outcome == "refused":
            values.update(subscription="refused")
        else:
            values.update(subscribe_due_at=retry_at)
        session.execute(update(Shipment).where(col(Shipment.id) == shipment_id).values(**values))


@dataclass(frozen=True, slots=True)
class RecheckFilter:
    """Which parcels an operator asked to check again."""

    waybills: tuple[str, ...] = ()
    courier: str | None = None
    anomaly: str | None = None
    shop: str | None = None


@dataclass(frozen=True, slots=True)
class RecheckSelection:
    """The parcels an operator's filter matched, those allowed a query now, and those claimed."""

    matched: int
    allowed: int
    ids: list[int]


def select_for_recheck(
    *,
    session: Session,
    wanted: RecheckFilter,
    quiet_since: datetime,
    claim_as: dict[str, Any] | None,
) -> RecheckSelection:
    """Count the parcels matching; claim (or, without `claim_as`, list) those allowed a query.

    A parcel checked after `quiet_since` waits: the courier locks a waybill queried twice in
    a short time.
    """
    query = select(Shipment.id).join(Shop, col(Shop.id) == Shipment.shop_id)
    if wanted.waybills:
        query = query.where(col(Shipment.waybill).in_(wanted.waybills))
    if wanted.courier:
        query = query.where(Shipment.courier == wanted.courier)
    if wanted.shop:
        query = query.where(Shop.code == wanted.shop)
    if wanted.anomaly:
        query = query.where(
            col(Shipment.id).in_(
                select(AfterSalesCase.shipment_id).where(
                    AfterSalesCase.kind == wanted.anomaly, AfterSalesCase.state == "open"
                )
            )
        )
    allowed = (col(Shipment.last_checked_at).is_(None)) | (
        col(Shipment.last_checked_at) <= quiet_since
    )
    matched = len(session.exec(query).all())
    if claim_as is None:  # a dry run claims nothing
        return RecheckSelection(matched, len(session.exec(query.where(allowed)).all()), [])
    ids = claim(session, Shipment, candidates=query.where(allowed), due=allowed, values=claim_as)
    return RecheckSelection(matched, len(ids), ids)
