"""Tasks behind the manual recovery flows: each reports what it would do, or does it once."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from aftercare.clients.platform import TAOBAO
from aftercare.settings import get_settings
from aftercare.shop_context import shop_context
from aftercare.store import outbox
from aftercare.store.reminders import count_due_orders
from aftercare.store.shipments import (
    RecheckFilter,
    RecheckSelection,
    count_due_shipments,
    select_for_recheck,
)
from aftercare.store.shops import ShopInfo
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task
from tasks.ratings import pull_rating_window
from tasks.trades import pull_trade_window

DAY = timedelta(days=1)


def _windows(start: datetime, end: datetime, size: timedelta) -> list[tuple[datetime, datetime]]:
    windows = []
    while start < end:
        windows.append((start, min(start + size, end)))
        start += size
    return windows


@pipeline_task("resync-shop-window", run_name="resync-{shop.code}")
def resync_shop_window(
    shop: ShopInfo, start: datetime, end: datetime, streams: list[str], dry_run: bool, now: datetime
) -> dict[str, int]:
    """Re-pull a shop's trades and/or ratings of a window; upserts make a repeat harmless."""
    settings = get_settings()
    counts: Counter[str] = Counter()
    client = limits.taobao(settings)
    key = shop_context(settings, shop.code, shop.timezone, shop.platform).session_key()
    pulls = {"trades": pull_trade_window, "ratings": pull_rating_window}
    if shop.platform != TAOBAO:  # trades only (no ratings), counted by reading them through
        pulls = {"trades": pull_trade_window}
        client = limits.platform(settings, shop.platform)  # type: ignore[assignment]
    for window_start, window_end in _windows(start, end, DAY):
        for stream in [name for name in pulls if name in streams]:
            if dry_run and shop.platform != TAOBAO:
                listed = client.iter_modified_trades(key, window_start, window_end, page_size=100)
                counts[f"{stream} (would re-read)"] += sum(len(p.trades) for p in listed)
                continue
            if dry_run:  # the first page's total says how many would be re-read
                pages = (
                    [client.trades_page(key, window_start, window_end, page_no=1, page_size=40)]
                    if stream == "trades"
                    else [
                        client.ratings_page(
                            key, window_start, window_end, page_no=1, page_size=40, result=result
                        )
                        for result in ("neutral", "bad")
                    ]
                )
                counts[f"{stream} (would re-read)"] += sum(p.total_results or 0 for p in pages)
                continue
            pulled = pulls[stream](settings, shop, window_start, window_end, now)
            counts.update({f"{stream} {name}": n for name, n in pulled.items()})
    return dict(counts)


@pipeline_task("select-shipments-to-recheck")
def select_shipments(
    waybills: list[str],
    courier: str | None,
    anomaly: str | None,
    shop: str | None,
    dry_run: bool,
    now: datetime,
) -> RecheckSelection:
    """Find the parcels matching the filter; unless dry-run, claim those allowed a query now."""
    settings = get_settings()
    # The courier locks a waybill queried twice within its minimum interval: those wait.
    quiet = now - timedelta(minutes=settings.logistics.query_min_interval_minutes)
    owner = f"recheck-{uuid.uuid4().hex[:12]}"
    lease = timedelta(minutes=settings.logistics.claim_lease_minutes)
    with session_scope(settings.database_url) as session:
        return select_for_recheck(
            session=session,
            wanted=RecheckFilter(tuple(waybills), courier, anomaly, shop),
            quiet_since=quiet,
            claim_as=None if dry_run else {"next_check_at": now + lease, "claimed_by": owner},
        )


@pipeline_task("requeue-failed-messages")
def requeue_failed(
    start: datetime, end: datetime, purposes: list[str], dry_run: bool, now: datetime
) -> dict[str, int]:
    """Put messages that failed in the window back in the queue; sent ones are never touched."""
    with session_scope(get_settings().database_url) as session:
        return outbox.requeue_failed(
            session=session, start=start, end=end, purposes=purposes, now=now, dry_run=dry_run
        )


@pipeline_task("count-due-work")
def count_due(as_of: datetime) -> dict[str, int]:
    """Count what is due at a time: parcels to check, orders to remind, messages to send."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        return {
            "parcels due a check": count_due_shipments(session=session, now=as_of),
            "orders due a reminder": count_due_orders(session=session, now=as_of),
            "messages due to be sent": outbox.count_due(session=session, now=as_of, limit=10**6),
        }
