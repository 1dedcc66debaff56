"""Flow `purge-personal-data`: remove personal data past its retention period (PIPL art. 19)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from prefect import flow, get_run_logger

from aftercare.clock import CHINA
from aftercare.rules.retention import retention_cutoff
from aftercare.settings import get_settings
from aftercare.store.retention import ORDER_TABLES
from flows.common import Progress, publish_report, run_name, start_run
from tasks.retention import last_order_id, purge_buyers_and_raw_records, purge_order_page

MAX_PAGES = 100_000


@flow(name="purge-personal-data", flow_run_name=run_name("purge-personal-data"))
def purge_personal_data(as_of: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Purge buyers' personal data of old orders; counts, statuses and dates stay for reports."""
    now = start_run(as_of)
    settings = get_settings().retention
    orders: Counter[str] = Counter()
    purged: Counter[str] = Counter(dict.fromkeys(ORDER_TABLES, 0))
    after_id = 0
    last = last_order_id()
    progress = Progress("扫描订单，清理过期个人信息", last)
    for _ in range(MAX_PAGES):
        page = purge_order_page(now, after_id, dry_run)
        if page.scanned_to is None:
            break
        progress.advance(page.scanned_to - after_id)
        orders.update(expired=page.expired, kept_for_open_cases=page.kept_for_open_cases)
        purged.update(page.purged)
        after_id = page.scanned_to
    purged.update(purge_buyers_and_raw_records(now, dry_run))
    verb = "would purge" if dry_run else "purged"
    summary = {
        "orders_expired": orders["expired"],
        "orders_kept_for_open_cases": orders["kept_for_open_cases"],
        **{f"{verb}:{table}": count for table, count in sorted(purged.items())},
    }
    cutoff = retention_cutoff(now, settings.days)
    get_run_logger().info(
        "%s personal data of %d orders changed before %s", verb, orders["expired"], cutoff.date()
    )
    publish_report(
        "purge-personal-data",
        now,
        summary,
        key="purge-personal-data",
        dry_run=dry_run,
        note=(
            f"：{cutoff.astimezone(CHINA):%Y-%m-%d} 以来（{settings.days} 天）没有变化的订单，"
            f"超过 {settings.raw_days} 天的原始记录"
        ),
    )
    return summary
