"""Refunds: synced from the platform by modified time, and their timers watched."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftercare.refund_sync import pull_refunds
from aftercare.rules.refunds import alert_line, margin_reached
from aftercare.settings import get_settings
from aftercare.store.alerts import queue_alerts
from aftercare.store.refunds import waiting_on_seller
from aftercare.store.shops import ShopInfo
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

HEADING = "退款即将超时，请在平台判给买家之前处理"


@pipeline_task("sync-refunds", run_name="sync-refunds-{shop.code}", retries=2)
def sync_refunds(shop: ShopInfo, as_of: datetime) -> dict[str, int]:
    """Pull every refund modified since the shop's cursor, window by window, and save it."""
    settings = get_settings()
    return pull_refunds(settings, shop, as_of, limits.platform(settings, shop.platform))


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
