"""Normalising courier states into the statuses the whole project speaks."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class ShipmentStatus(StrEnum):
    """Normalised parcel status (the vocabulary international trackers converged on)."""

    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED = "returned"
    REFUSED = "refused"
    EXPIRED = "expired"


# Kuaidi100 `state` -> status. 4 退签 and 6 退回 both mean the parcel goes back to the shop.
_BY_STATE = {
    0: ShipmentStatus.IN_TRANSIT,
    1: ShipmentStatus.IN_TRANSIT,
    2: ShipmentStatus.EXCEPTION,
    3: ShipmentStatus.DELIVERED,
    4: ShipmentStatus.RETURNED,
    5: ShipmentStatus.OUT_FOR_DELIVERY,
    6: ShipmentStatus.RETURNED,
    7: ShipmentStatus.IN_TRANSIT,
    8: ShipmentStatus.IN_TRANSIT,
    10: ShipmentStatus.IN_TRANSIT,
    11: ShipmentStatus.IN_TRANSIT,
    12: ShipmentStatus.IN_TRANSIT,
    13: ShipmentStatus.EXCEPTION,
    14: ShipmentStatus.REFUSED,
}
# resultv2 sub-codes that mean "the courier has the order but not the parcel yet".
_ORDER_ONLY_CODES = frozenset({"101", "102"})
# resultv2 sub-code for a parcel signed by someone else (代签).
PROXY_SIGNED_CODE = "303"
PROXY_WORDS = ("代签", "代收", "驿站", "快递柜", "门卫")

FINAL_STATUSES = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.EXPIRED})


def base_state(state: int | None) -> int | None:
    """Return the documented state a Kuaidi100 state stands for (None when nothing fits).

    With resultv2 the top-level state may be a sub-state: 101-103 (1 picked up), 1001-1003
    (0 in transit), 301-304 (3 signed), 501 (5 out for delivery), 14xx (14 refused) ...
    """
    if state is None or state in _BY_STATE:
        return state
    text = str(state)
    if len(text) == 3:
        base = int(text[0])
    elif len(text) == 4:
        base = 0 if text.startswith("10") else int(text[:2])
    else:
        return None
    return base if base in _BY_STATE else None


def state_note(state: int | None) -> str:
    """Say how an undocumented state was read ('' for a documented one), to keep on record."""
    if state is None or state in _BY_STATE:
        return ""
    base = base_state(state)
    if base is None:
        return f"unknown Kuaidi100 state {state}: read as in transit; the scans decide the rest"
    return f"Kuaidi100 state {state} read as state {base} ({_BY_STATE[base].value})"


def normalise_status(
    state: int | None, latest_status_code: str | None, event_count: int
) -> ShipmentStatus:
    """Map the courier's state and newest sub-code to a normalised status.

    A state nothing fits is read as in transit, not as a failed check: the stall, overdue
    and expiry rules still judge the parcel by its scans.
    """
    if event_count == 0 or state is None:
        return ShipmentStatus.PENDING
    base = base_state(state)
    if base is None:
        return ShipmentStatus.IN_TRANSIT
    if base in (0, 1) and (latest_status_code in _ORDER_ONLY_CODES or state in (101, 102)):
        return ShipmentStatus.INFO_RECEIVED
    return _BY_STATE[base]


def is_expired(
    status: ShipmentStatus,
    shipped_at: datetime,
    last_event_at: datetime | None,
    now: datetime,
    expired_days: int,
) -> bool:
    """Tell whether a parcel has had no information for expired_days (lost, in practice)."""
    if status in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED):
        return False
    return now - (last_event_at or shipped_at) >= timedelta(days=expired_days)


def says_less(newest_scan: datetime | None, newest_on_record: datetime | None) -> bool:
    """Tell whether a courier answer is older news than what is on record.

    Kuaidi100 retries old pushes after newer ones went through, and a slow poll can answer
    after a push: the status follows the newest scan, never the order answers arrive in.
    """
    if newest_on_record is None:
        return False
    return newest_scan is None or newest_scan < newest_on_record


def signed_by_proxy(latest_status_code: str | None, latest_context: str | None) -> bool:
    """Tell whether the delivery scan says someone other than the buyer signed."""
    if latest_status_code == PROXY_SIGNED_CODE:
        return True
    return bool(latest_context) and any(w in latest_context for w in PROXY_WORDS)  # type: ignore[operator]
