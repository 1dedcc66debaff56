"""Refunds: synced from the platform by modified time, and their timers watched."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from aftercare.rules.refunds import alert_line, margin_reached
from aftercare.rules.sync import sync_windows
from aftercare.settings import Settings, get_settings
from aftercare.shop_context import shop_context
from aftercare.store.alerts import queue_alerts
from aftercare.store.refunds import save_refunds, waiting_on_seller
from aftercare.store.rejected import record_rejects
from aftercare.store.shops import ShopInfo
from aftercare.store.trades import advance_cursor, get_cursor
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

STREAM = "refunds"
HEADING = "退款即将超时，请在平台判给买家之前处理"


@pipeline_task("sync-refunds", run_name="sync-refunds-{shop.code}", retries=2)
def sync_refunds(shop: ShopInfo, as_of: datetime) -> dict[str, int]:
    """Pull every refund modified since the shop's cursor, window by window, and save it."""
    return pull_refunds(get_settings(), shop, as_of)


def pull_refunds(settings: Settings, shop: ShopInfo, as_of: datetime) -> dict[str, int]:
    """The refund sync itself: also what a refund message of a platform without a refund
    read by id (Pinduoduo) runs."""
    client = limits.platform(settings, shop.platform)
    key = shop_context(settings, shop.code, shop.timezone, shop.platform).session_key()
    with session_scope(settings.database_url) as session:
        cursor = get_cursor(session=session, shop_id=shop.id, stream=STREAM)
    counts: Counter[str] = Counter()
    for start, end in sync_windows(
        cursor, as_of, settings.sync, settings.refunds.initial_sync_days
    ):
        for page in client.iter_refunds(key, start, end, page_size=100):
            with session_scope(settings.database_url) as session:
                counts.update(
                    save_refunds(session=session, shop_id=shop.id, refunds=page.refunds, now=as_of)
                )
                record_rejects(
                    session=session, source=f"{shop.platform}.refund", shop_id=shop.id,
                    rejects=list(page.rejected), now=as_of,
                )  # fmt: skip
            counts["rejected"] += len(page.rejected)
        # Moved only after a whole window is saved: a crash repeats, never skips.
        with session_scope(settings.database_url) as session:
            advance_cursor(
                session=session, shop_id=shop.id, stream=STREAM, synced_until=end, now=as_of
            )
    return dict(counts)


@pipeline_task("watch-refund-deadlines")
def watch_refund_deadlines(as_of: datetime) -> dict[str, int]:
    """Queue a staff line per refund and margin reached (once each); return the figures."""
    settings = get_settings()
    margins = [timedelta(hours=h) for h in settings.refunds.alert_margin_hours]
    with session_scope(settings.database_url) as session:
        watched = waiting_on_seller(session=session, until=as_of + max(margins))
        rows = []
        for refund in watched:
            margin = margin_reached(refund.seller_deadline, as_of, margins)
            if margin is None or refund.seller_deadline is None:
                continue
            hours = margin.total_seconds() / 3600
            rows.append(
                {
                    "dedupe_key": f"refund:{refund.shop_code}:{refund.refund_id}:"
                    f"{refund.status}:{hours:g}h",
                    "topic": refund.shop_code,
                    "heading": HEADING,
                    "line": alert_line(
                        refund.kind, refund.status, refund.refund_id, refund.tid,
                        refund.refund_fee, refund.seller_deadline, as_of,
                    ),
                }
            )  # fmt: skip
        queued = queue_alerts(session=session, rows=rows, now=as_of)
    overdue = sum(r.seller_deadline is not None and r.seller_deadline <= as_of for r in watched)
    return {"watched": len(watched), "alerts_queued": queued, "past_deadline": overdue}
