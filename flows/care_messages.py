"""Flow `care-messages` (关怀): order notices, revisits, thanks, birthday and holiday greetings."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import add_counts, publish_report, run_name, start_run
from tasks.care import care_sent_today, queue_order_notices
from tasks.greetings import queue_greetings
from tasks.shops import list_shops
from tasks.trades import sync_trades


@flow(name="care-messages", flow_run_name=run_name("care-messages"))
def care_messages(as_of: datetime | None = None, shops: list[str] | None = None) -> dict[str, int]:
    """Queue every care message that is due; record why each one not sent was held back."""
    now = start_run(as_of)
    for future in [sync_trades.submit(shop, now) for shop in list_shops(shops)]:
        future.result()
    totals = add_counts([queue_order_notices(now), queue_greetings(now)])
    sent = care_sent_today(now)
    figures = {**dict(sorted(totals.items())), **{f"{t}:sent_today": n for t, n in sent.items()}}
    publish_report("care-messages", now, figures, key="care-messages", note="：排队与未发原因")
    return dict(totals)
