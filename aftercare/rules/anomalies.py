"""Detecting what is wrong with a parcel, from its facts and the time now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aftercare.rules.tracking import ShipmentStatus
from aftercare.settings import LogisticsSettings


class AnomalyKind(StrEnum):
    """The logistics problems agents follow up, early warnings included."""

    NO_TRACKING = "no_tracking"
    STALLED = "stalled"
    PROBLEM = "problem"
    REFUSED = "refused"
    RETURNING = "returning"
    SIGNED_BY_PROXY = "signed_by_proxy"
    OVERDUE = "overdue"
    EXPIRED = "expired"
    UNTRACKABLE = "untrackable"
    # The platform says shipped but no sub-order carries a waybill: nothing can be tracked.
    SHIPPED_WITHOUT_WAYBILL = "shipped_without_waybill"


class Severity(StrEnum):
    """How urgent a case is."""

    MINOR = "minor"
    SERIOUS = "serious"


@dataclass(frozen=True, slots=True)
class ShipmentFacts:
    """What is known of a parcel at check time."""

    shipped_at: datetime
    status: ShipmentStatus
    courier_state: int | None
    event_count: int
    last_event_at: datetime | None
    province: str | None
    signed_by_proxy: bool
    courier_known: bool = True
    check_failures: int = 0  # failed checks in a row; the facts above may be stale then


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One problem found, with a short explanation for the case history."""

    kind: AnomalyKind
    severity: Severity
    detail: str


def max_transit(province: str | None, thresholds: LogisticsSettings) -> timedelta:
    """Return the longest normal transit time to a destination province."""
    days = thresholds.max_transit_days_by_province.get(
        province or "", thresholds.default_max_transit_days
    )
    return timedelta(days=days)


def detect_anomalies(
    facts: ShipmentFacts, now: datetime, thresholds: LogisticsSettings
) -> list[Anomaly]:
    """Return every anomaly the parcel shows now; an empty list means all is well."""
    if not facts.courier_known:
        return [Anomaly(AnomalyKind.UNTRACKABLE, Severity.MINOR, "courier unknown to Kuaidi100")]
    if facts.check_failures:
        # Stale facts must not make us tell a buyer "no tracking" when we merely could not read it.
        if facts.check_failures < thresholds.untrackable_after_failures:
            return []
        detail = f"the courier's answer could not be used {facts.check_failures} times in a row"
        return [Anomaly(AnomalyKind.UNTRACKABLE, Severity.MINOR, detail)]
    age = now - facts.shipped_at
    if facts.status is ShipmentStatus.DELIVERED:
        if facts.signed_by_proxy:
            return [Anomaly(AnomalyKind.SIGNED_BY_PROXY, Severity.MINOR, "signed by someone else")]
        return []
    if facts.status is ShipmentStatus.EXPIRED:
        days = (now - (facts.last_event_at or facts.shipped_at)).days
        return [Anomaly(AnomalyKind.EXPIRED, Severity.SERIOUS, f"no information for {days} days")]

    found: list[Anomaly] = []
    if facts.event_count == 0:
        if age >= timedelta(hours=thresholds.no_tracking_hours):
            hours = int(age.total_seconds() // 3600)
            found.append(
                Anomaly(
                    AnomalyKind.NO_TRACKING, Severity.MINOR, f"no scan {hours} h after shipping"
                )
            )
    elif facts.last_event_at is not None and facts.status is not ShipmentStatus.RETURNED:
        quiet = now - facts.last_event_at
        hours = int(quiet.total_seconds() // 3600)
        if quiet >= timedelta(hours=thresholds.stalled_serious_hours):
            found.append(
                Anomaly(AnomalyKind.STALLED, Severity.SERIOUS, f"no new scan for {hours} h")
            )
        elif quiet >= timedelta(hours=thresholds.stalled_minor_hours):
            found.append(Anomaly(AnomalyKind.STALLED, Severity.MINOR, f"no new scan for {hours} h"))

    if facts.status is ShipmentStatus.EXCEPTION:
        found.append(Anomaly(AnomalyKind.PROBLEM, Severity.SERIOUS, "courier reports a problem"))
    if facts.status is ShipmentStatus.REFUSED:
        found.append(Anomaly(AnomalyKind.REFUSED, Severity.SERIOUS, "the receiver refused it"))
    if facts.status is ShipmentStatus.RETURNED:
        detail = "returned to the shop" if facts.courier_state == 4 else "on its way back"
        found.append(Anomaly(AnomalyKind.RETURNING, Severity.MINOR, detail))

    in_flight = facts.status not in (ShipmentStatus.RETURNED, ShipmentStatus.REFUSED)
    limit = max_transit(facts.province, thresholds)
    if in_flight and age > limit:
        found.append(
            Anomaly(
                AnomalyKind.OVERDUE,
                Severity.MINOR,
                f"{age.days} days in transit, {limit.days} expected to {facts.province or '?'}",
            )
        )
    return found
