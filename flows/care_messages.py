"""Flow `care-messages` (关怀): order notices, revisits, thanks, birthday and holiday greetings."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.common import add_counts, run_name, start_run
from tasks.care import care_sent_today, queue_greetings, queue_order_notices
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
    create_table_artifact(
        key="care-messages",
        table=[
            {"touch-point": key.split(":", 1)[0], "decision": key.split(":", 1)[1], "count": n}
            for key, n in sorted(totals.items())
        ]
        + [
            {"touch-point": touchpoint, "decision": "sent today", "count": n}
            for touchpoint, n in sorted(sent.items())
        ]
        or [{"touch-point": "-", "decision": "nothing due", "count": 0}],
        description=f"care-messages as of {now:%Y-%m-%d %H:%M} UTC: queued and held back",
    )
    return dict(totals)
