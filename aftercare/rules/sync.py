"""Which modification windows an incremental sync must fetch."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftercare.settings import SyncSettings


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
