"""Which modification windows an incremental sync must fetch."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from aftercare.clients.taobao import TradePage, TradeRecord
from aftercare.clients.taobao_ratings import RatingPage, RatingRecord
from aftercare.settings import SyncSettings

Record = TypeVar("Record")

# TOP trade statuses are upper-case words joined by underscores (WAIT_BUYER_PAY ...).
# Taobao nicks are short; the customer table keys buyers by nick (100 characters).
MAX_NICK = 100
_STATUS = re.compile(r"[A-Z][A-Z_]{0,39}")
# Taobao opened in May 2003: a trade time before it is a default or a broken clock (1970).
EARLIEST_TRADE_TIME = datetime(2003, 5, 10, tzinfo=UTC)


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
    stamps = {
        "created": trade.created,
        "modified": trade.modified,
        "pay_time": trade.pay_time,
        "consign_time": trade.consign_time,
        "end_time": trade.end_time,
    }
    ahead = stamped_ahead(stamps, now, tolerance)
    if ahead:
        # A time in 2100 would hide the parcel from every rule until then.
        return f"{ahead}: skipped so it cannot hide later changes; read again once fixed"
    return implausible_times(stamps, trade.created, tolerance)


def implausible_times(
    stamps: dict[str, datetime | None], created: datetime, tolerance: timedelta
) -> str:
    """Return why a trade's times cannot be true ('' when they can): before Taobao, or before
    the order itself (a 1970 ship time would open an instant "lost, reship" case)."""
    for name, stamp in stamps.items():
        if stamp is None:
            continue
        if stamp < EARLIEST_TRADE_TIME:
            return f"{name} {stamp:%Y-%m-%d %H:%M} UTC is before Taobao existed: implausible"
        if name not in ("created", "modified") and stamp < created - tolerance:
            return (
                f"{name} {stamp:%Y-%m-%d %H:%M} UTC is before the order was created "
                f"({created:%Y-%m-%d %H:%M} UTC): implausible"
            )
    return ""


def rating_problem(rating: RatingRecord, now: datetime, tolerance: timedelta) -> str:
    """Return why a readable rating must still not be saved ('' when it may)."""
    ahead = stamped_ahead(
        {"created": rating.created, "append_created": rating.append_created}, now, tolerance
    )
    return ahead and f"{ahead}: skipped; read again once fixed"


def usable_ratings(
    page: RatingPage, now: datetime, tolerance: timedelta
) -> tuple[tuple[RatingRecord, ...], list[tuple[str, str]]]:
    """Split a page into the ratings to save and (oid, reason) of those refused."""
    return _usable(
        page.ratings, page.rejected, lambda r: (r.oid, rating_problem(r, now, tolerance))
    )


def usable_trades(
    page: TradePage, now: datetime, tolerance: timedelta
) -> tuple[tuple[TradeRecord, ...], list[tuple[str, str]]]:
    """Split a page into the trades to save and (tid, reason) of those refused."""
    return _usable(page.trades, page.rejected, lambda t: (t.tid, trade_problem(t, now, tolerance)))


def _usable(
    records: Iterable[Record],
    rejected: Iterable[tuple[str, str]],
    judge: Callable[[Record], tuple[str, str]],
) -> tuple[tuple[Record, ...], list[tuple[str, str]]]:
    refused, usable = list(rejected), []
    for record in records:
        key, problem = judge(record)
        if problem:
            refused.append((key, problem))
        else:
            usable.append(record)
    return tuple(usable), refused
