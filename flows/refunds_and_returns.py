"""Flow `refunds-and-returns` (退款退货): every refund synced and none left to the timer."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from aftercare.settings import get_settings
from flows.common import add_counts, publish_report, run_name, start_run
from tasks.alerts import post_staff_alerts
from tasks.refund_actions import act_on_refunds
from tasks.refund_notices import tell_buyers
from tasks.refund_reports import refund_report
from tasks.refunds import sync_refunds, watch_refund_deadlines
from tasks.register import register_and_summarise
from tasks.return_parcels import track_returns
from tasks.shops import list_shops
from tasks.trades import sync_trades


@flow(name="refunds-and-returns", flow_run_name=run_name("refunds-and-returns"))
def refunds_and_returns(
    as_of: datetime | None = None, shops: list[str] | None = None
) -> dict[str, object]:
    """Sync refunds, give the answers the shop automated, warn staff before any timer runs
    out, report refunds by kind."""
    now = start_run(as_of)
    shop_list = list_shops(shops)
    # Orders first: a refund is linked to its order, and its kind to whether it shipped.
    for future in [sync_trades.submit(s, now) for s in shop_list]:
        future.result()
    synced = add_counts(f.result() for f in [sync_refunds.submit(s, now) for s in shop_list])
    told = tell_buyers(now)  # the buyer hears from the shop on a new request, once
    acted = act_on_refunds(now)  # the answers the shop lets the pipeline give by itself
    returns = track_returns(now)  # the goods on their way back, with the couriers
    watched = watch_refund_deadlines(now)
    posted = post_staff_alerts(now)
    report = refund_report(now, get_settings().refunds.alert_margin_hours)
    registered = register_and_summarise(now)  # 登记表格, and purchasing's summaries
    figures: dict[str, object] = {
        "refunds_new": synced.get("new", 0),
        "refunds_changed": synced.get("changed", 0),
        "refunds_older_ignored": synced.get("older", 0),
        "refunds_rejected": synced.get("rejected", 0),
        "decided_by_timer_now": synced.get("timed_out", 0),
        "buyers_told": told,
        **acted,
        **returns,
        **watched,
        "staff_alerts": posted,
        **report,
        **registered,
    }
    publish_report("refunds-and-returns", now, figures, key="refunds-and-returns")
    return figures
