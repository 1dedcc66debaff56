"""Which modification windows an incremental sync must fetch."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from aftercare.clients.taobao import TradeRecord
from aftercare.clients.taobao_ratings import RatingRecord
from aftercare.settings import SyncSettings

# TOP trade statuses are upper-case words joined by underscores (WAIT_BUYER_PAY ...).
# Taobao nicks are short; the customer table keys buyers by nick (100 characters).
MAX_NICK = 100
_STATUS = re.compile(r"[A-Z][A-Z_]{0,39}")


def sync_windows(
    synced_until: datetime | None,
    now: datetime,
    settings: SyncSettings,
    initial_days: int,
) -> list[tuple[datetime, datetime]]:
    """Split the time since the last sync into windows no longer than the API allows."""
    end = now - timedelta(minutes=settings.lag_minutes)
    if synced_until is None:
        start = end - timedelta(days=initial_days)
    else:
        start = synced_until - timedelta(minutes=settings.overlap_minutes)
    step = timedelta(minutes=settings.window_minutes)
    windows = []
    while start < end:
        stop = min(start + step, end)
        windows.append((start, stop))
        start = stop
    return windows


def stamped_ahead(stamps: dict[str, datetime | None], now: datetime, tolerance: timedelta) -> str:
    """Return why a record's time stamps cannot be trusted ('' when none is beyond the skew)."""
    for name, stamp in stamps.items():
        if stamp is not None and stamp > now + tolerance:
            ahead = int((stamp - now).total_seconds() // 60)
            return (
                f"{name} {stamp:%Y-%m-%d %H:%M} UTC is {ahead} min in the future "
                f"(more than {int(tolerance.total_seconds() // 60)} min of clock skew)"
            )
    return ""


def trade_problem(trade: TradeRecord, now: datetime, tolerance: timedelta) -> str:
    """Return why a readable trade must still not be saved ('' when it may)."""
    if not _STATUS.fullmatch(trade.status):
        return f"unknown trade status {trade.status[:40]!r}"
    if not 0 < len(trade.buyer_nick) <= MAX_NICK:
        return f"buyer nick of {len(trade.buyer_nick)} characters (1-{MAX_NICK} expected)"
    if not trade.items:
        return "no items (orders.order is empty): nothing to ship or to name in a message"
    ahead = stamped_ahead({"created": trade.created, "modified": trade.modified}, now, tolerance)
    return ahead and f"{ahead}: skipped so it cannot hide later changes; read again once fixed"


def rating_problem(rating: RatingRecord, now: datetime, tolerance: timedelta) -> str:
    """Return why a readable rating must still not be saved ('' when it may)."""
    ahead = stamped_ahead(
        {"created": rating.created, "append_created": rating.append_created}, now, tolerance
    )
    return ahead and f"{ahead}: skipped; read again once fixed"
