"""Incremental trade sync from the shop platform."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from prefect import get_run_logger

from aftercare.rules.reminders import first_reminder
from aftercare.rules.sync import sync_windows, usable_trades
from aftercare.settings import Settings, get_settings
from aftercare.shop_context import shop_context
from aftercare.store.rejected import record_rejects
from aftercare.store.shops import ShopInfo
from aftercare.store.trades import advance_cursor, get_cursor, save_trades
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

STREAM = "trades"


def pull_trade_window(
    settings: Settings, shop: ShopInfo, start: datetime, end: datetime, now: datetime
) -> Counter[str]:
    """Fetch and save every trade of the shop modified in one window (at most a day)."""
    logger = get_run_logger()
    client = limits.platform(settings, shop.platform)
    reminders = settings.reminders.for_shop(shop.code)
    counts: Counter[str] = Counter()
    tolerance = timedelta(minutes=settings.sync.future_tolerance_minutes)
    for page in client.iter_modified_trades(
        shop_context(settings, shop.code, shop.timezone, shop.platform).session_key(),
        start,
        end,
        page_size=settings.sync.page_size,
    ):
        trades, rejected = usable_trades(page, now, tolerance)
        with session_scope(settings.database_url) as session:
            first = {
                t.tid: first_reminder(t.status, t.created, t.trade_type, reminders, now)
                for t in trades
            }
            report = save_trades(
                session=session,
                shop_id=shop.id,
                trades=tuple(trades),
                now=now,
                first_reminders=first,
            )
            record_rejects(
                session=session,
                source=f"{shop.platform}.trade",
                shop_id=shop.id,
                rejects=rejected,
                now=now,
            )
            # The trade is saved; only its parcel cannot be tracked under that number.
            record_rejects(
                session=session,
                source=f"{shop.platform}.waybill",
                shop_id=shop.id,
                rejects=report.unusable_waybills,
                now=now,
            )
        counts["trades"] += report.trades
        counts["new_shipments"] += report.new_shipments
        counts["rejected"] += len(rejected)
        for tid, reason in rejected:
            logger.warning("shop %s: skipped trade %s: %s", shop.code, tid, reason)
        for key, reason in report.unusable_waybills:
            logger.warning("shop %s: parcel of %s not tracked: %s", shop.code, key, reason)
        counts["unusable_waybills"] += len(report.unusable_waybills)
        counts["shipped_without_waybill"] += report.without_waybill
    return counts


@pipeline_task("sync-trades", run_name="sync-trades-{shop.code}", retries=2)
def sync_trades(shop: ShopInfo, as_of: datetime) -> dict[str, int]:
    """Pull every trade modified since the shop's cursor, window by window, and save it."""
    settings = get_settings()
    if not settings.sync.poll_trades:  # trades arrive by the platform's messages only
        return {}
    with session_scope(settings.database_url) as session:
        cursor = get_cursor(session=session, shop_id=shop.id, stream=STREAM)
    windows = sync_windows(cursor, as_of, settings.sync, settings.logistics.initial_sync_days)
    totals: Counter[str] = Counter(windows=len(windows))
    for start, end in windows:
        totals.update(pull_trade_window(settings, shop, start, end, as_of))
        # The cursor moves only after a whole window is saved, so a crash repeats, never skips.
        with session_scope(settings.database_url) as session:
            advance_cursor(
                session=session, shop_id=shop.id, stream=STREAM, synced_until=end, now=as_of
            )
    get_run_logger().info(
        "shop %s: %d trades in %d windows, %d new shipments",
        shop.code,
        totals["trades"],
        totals["windows"],
        totals["new_shipments"],
    )
    return dict(totals)
