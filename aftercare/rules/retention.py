"""How long personal data is kept: what is old enough to be purged (PIPL art. 19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Messages in these states are done with: their text and phone serve no further send.
FINISHED_MESSAGES = ("sent", "failed", "suppressed")


@dataclass(frozen=True, slots=True)
class OrderActivity:
    """When an order last changed, and whether anyone is still working on it."""

    order_id: int
    modified_at: datetime
    ended_at: datetime | None
    open_cases: int


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Return the moment before which personal data is past its retention period."""
    return now - timedelta(days=days)


def order_expired(order: OrderActivity, *, now: datetime, days: int) -> bool:
    """Tell whether an order's personal data may go: untouched for `days`, no case open."""
    last = max(order.modified_at, order.ended_at or order.modified_at)
    return order.open_cases == 0 and last < retention_cutoff(now, days)
