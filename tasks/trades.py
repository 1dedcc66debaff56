"""Incremental trade sync from the shop platform."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from aftercare import clients
from aftercare.rules.sync import sync_windows
from aftercare.settings import get_settings
from aftercare.store.rejected import record_rejects
from aftercare.store.shops import ShopInfo
from aftercare.store.trades import advance_cursor, get_cursor, save_trades
from models.db import session_scope

STREAM = "trades"


class ShopNotAuthorised(RuntimeError):
    """No platform session key is configured for a shop."""


@task(
    name="sync-trades",
    task_run_name="sync-trades-{shop.code}",
    retries=2,
    retry_delay_seconds=30,
    cache_policy=NO_CACHE,
)
def sync_trades(shop: ShopInfo, as_of: datetime) -> dict[str, int]:
    """Pull every trade modified since the shop's cursor, window by window, and save it."""
    settings = get_settings()
    logger = get_run_logger()
    session_key = settings.taobao_sessions.get(shop.code)
    if session_key is None:
        raise ShopNotAuthorised(f"no Taobao session key configured for shop {shop.code}")
    client = clients.taobao(settings)
    reminders = settings.reminders.for_shop(shop.code)
    with session_scope(settings.database_url) as session:
        cursor = get_cursor(session=session, shop_id=shop.id, stream=STREAM)
    windows = sync_windows(cursor, as_of, settings.sync, settings.logistics.initial_sync_days)
    totals = {"windows": len(windows), "trades": 0, "new_shipments": 0, "rejected": 0}
    for start, end in windows:
        for page in client.iter_modified_trades(
            session_key.get_secret_value(), start, end, page_size=settings.sync.page_size
        ):
            with session_scope(settings.database_url) as session:
                report = save_trades(
                    session=session,
                    shop_id=shop.id,
                    trades=page.trades,
                    now=as_of,
                    reminders=reminders,
                )
                record_rejects(
                    session=session,
                    source="taobao.trade",
                    shop_id=shop.id,
                    rejects=list(page.rejected),
                    now=as_of,
                )
            totals["trades"] += report.trades
            totals["new_shipments"] += report.new_shipments
            totals["rejected"] += len(page.rejected)
            for tid, reason in page.rejected:
                logger.warning("shop %s: skipped trade %s: %s", shop.code, tid, reason)
        # The cursor moves only after a whole window is saved, so a crash repeats, never skips.
        with session_scope(settings.database_url) as session:
            advance_cursor(
                session=session, shop_id=shop.id, stream=STREAM, synced_until=end, now=as_of
            )
    logger.info(
        "shop %s: %d trades in %d windows, %d new shipments",
        shop.code,
        totals["trades"],
        totals["windows"],
        totals["new_shipments"],
    )
    return totals
