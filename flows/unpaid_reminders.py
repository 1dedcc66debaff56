"""Flow `unpaid-order-reminders` (催付): sync orders, queue due reminders, record conversions."""

from __future__ import annotations

import uuid
from datetime import datetime

from prefect import flow, get_run_logger

from aftercare.clock import local_day_start
from aftercare.settings import get_settings
from flows.common import add_counts, chunked, publish_report, run_bounded, run_name, start_run
from tasks.reminders import claim_orders, decide_reminders, record_conversions
from tasks.shops import list_shops
from tasks.trades import sync_trades


@flow(name="unpaid-order-reminders", flow_run_name=run_name("unpaid-order-reminders"))
def unpaid_order_reminders(
    as_of: datetime | None = None,
    shops: list[str] | None = None,
    max_orders: int | None = None,
) -> dict[str, object]:
    """Remind buyers of unpaid orders at each due stage, and record every decision."""
    now = start_run(as_of)
    settings = get_settings()
    logger = get_run_logger()

    shop_list = list_shops(shops)
    for future in [sync_trades.submit(shop, now) for shop in shop_list]:
        future.result()

    owner = f"reminders-{uuid.uuid4().hex[:12]}"
    ids = claim_orders(now, owner, max_orders or settings.reminders.max_orders_per_run)
    chunks = list(chunked(ids, settings.reminders.chunk_size))
    logger.info("%d orders due for a reminder, in %d chunks", len(ids), len(chunks))
    results, failures = run_bounded(
        lambda chunk, n: decide_reminders.submit(chunk, now, f"chunk-{n}-of-{len(chunks)}"),
        chunks,
        settings.reminders.max_concurrent_chunks,
        progress=f"为 {len(ids)} 个未付款订单决定催付",
    )
    totals = add_counts(results)
    report = record_conversions(now, local_day_start(now, settings.timezone))
    summary: dict[str, object] = {
        "orders_due": len(ids),
        "queued": totals["queued"],
        "suppressed": totals["suppressed"],
        "suppressed_by_reason": report.suppressed,
        "new_conversions": report.new_conversions,
        "sent_today": report.sent_today,
        "paid_after_reminder_today": report.paid_after_reminder_today,
        "recovered_amount_today": report.recovered_amount_today,
        "chunks_failed": len(failures),
    }
    shown: dict[str, object] = {
        "orders_due": len(ids),
        "queued": totals["queued"],
        **{f"suppressed:{reason}": count for reason, count in sorted(report.suppressed.items())},
        "sent_today": report.sent_today,
        "paid_after_reminder_today": report.paid_after_reminder_today,
        "recovered_amount_today": str(report.recovered_amount_today),
    }
    publish_report(
        "unpaid-order-reminders",
        now,
        shown,
        key="unpaid-order-reminders",
        failures=failures,
        parts=len(chunks),
    )
    return summary
