"""Tasks behind the manual recovery flows: each reports what it would do, or does it once."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import col, select

from aftercare.settings import get_settings
from aftercare.store import outbox
from aftercare.store.outbox import due_messages_query
from aftercare.store.reminders import due_orders_query
from aftercare.store.shipments import due_shipments_query
from aftercare.store.shops import ShopInfo
from models import AfterSalesCase, Shipment, Shop
from models.db import claim, session_scope
from tasks import limits
from tasks.policy import pipeline_task
from tasks.reviews import pull_rating_window
from tasks.trades import pull_trade_window, session_key

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
    key = session_key(settings, shop)
    for window_start, window_end in _windows(start, end, DAY):
        if "trades" in streams:
            if dry_run:
                page = client.trades_page(key, window_start, window_end, page_no=1, page_size=40)
                counts["trades (would re-read)"] += page.total_results or 0
            else:
                counts.update(
                    {
                        f"trades {k}": v
                        for k, v in pull_trade_window(
                            settings, shop, window_start, window_end, now
                        ).items()
                    }
                )
        if "ratings" in streams:
            if dry_run:
                for result in ("neutral", "bad"):
                    ratings = client.ratings_page(
                        key, window_start, window_end, page_no=1, page_size=40, result=result
                    )
                    counts["ratings (would re-read)"] += ratings.total_results or 0
            else:
                counts.update(
                    {
                        f"ratings {k}": v
                        for k, v in pull_rating_window(
                            settings, shop, window_start, window_end, now
                        ).items()
                    }
                )
    return dict(counts)


@pipeline_task("select-shipments-to-recheck")
def select_shipments(
    waybills: list[str],
    courier: str | None,
    anomaly: str | None,
    shop: str | None,
    dry_run: bool,
    now: datetime,
) -> dict[str, object]:
    """Find the parcels matching the filter; unless dry-run, claim those allowed a query now."""
    settings = get_settings()
    query = select(Shipment.id).join(Shop, col(Shop.id) == Shipment.shop_id)
    if waybills:
        query = query.where(col(Shipment.waybill).in_(waybills))
    if courier:
        query = query.where(Shipment.courier == courier)
    if shop:
        query = query.where(Shop.code == shop)
    if anomaly:
        query = query.where(
            col(Shipment.id).in_(
                select(AfterSalesCase.shipment_id).where(
                    AfterSalesCase.kind == anomaly, AfterSalesCase.state == "open"
                )
            )
        )
    # Kuaidi100 locks a waybill queried twice within 30 minutes: those wait.
    quiet = now - timedelta(minutes=settings.logistics.query_min_interval_minutes)
    allowed = (col(Shipment.last_checked_at).is_(None)) | (col(Shipment.last_checked_at) <= quiet)
    with session_scope(settings.database_url) as session:
        matched = list(session.exec(query).all())
        if dry_run:
            eligible = list(session.exec(query.where(allowed)).all())
            return {"matched": len(matched), "would_recheck": len(eligible), "ids": []}
        owner = f"recheck-{uuid.uuid4().hex[:12]}"
        lease = timedelta(minutes=settings.logistics.claim_lease_minutes)
        ids = claim(
            session,
            Shipment,
            candidates=query.where(allowed),
            due=allowed,
            values={"next_check_at": now + lease, "claimed_by": owner},
        )
    return {"matched": len(matched), "would_recheck": len(ids), "ids": ids}


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
            name: len(session.execute(query(as_of, 1_000_000)).all())
            for name, query in (
                ("parcels due a check", due_shipments_query),
                ("orders due a reminder", due_orders_query),
                ("messages due to be sent", due_messages_query),
            )
        }
