"""When a parcel is next due for a courier check."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftercare.rules.tracking import ShipmentStatus
from aftercare.settings import LogisticsSettings

STOPPED = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.EXPIRED})


def next_check_at(
    status: ShipmentStatus, courier_state: int | None, now: datetime, thresholds: LogisticsSettings
) -> datetime | None:
    """Return when to check again, or None when the parcel needs no more checks."""
    if status in STOPPED or courier_state == 4:  # 4: the return was signed for by the shop
        return None
    minutes = max(
        thresholds.recheck_minutes.get(status.value, thresholds.error_recheck_minutes),
        thresholds.query_min_interval_minutes,
    )
    return now + timedelta(minutes=minutes)


def next_check_after_error(now: datetime, thresholds: LogisticsSettings) -> datetime:
    """Return when a parcel whose check failed is due again."""
    return now + timedelta(minutes=thresholds.error_recheck_minutes)
