"""Flow `resync-window`: re-pull a shop's orders and ratings of a time window after an outage."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from aftercare.clock import CHINA
from flows.common import given_time, publish_report, run_name, start_run
from tasks.recovery import resync_shop_window
from tasks.shops import list_shops


@flow(name="resync-window", flow_run_name=run_name("resync-window"))
def resync_window(
    shop: str,
    start: datetime,
    end: datetime,
    streams: list[str] | None = None,
    dry_run: bool = True,  # an operator sees what would happen before it does
    as_of: datetime | None = None,
) -> dict[str, int]:
    """Fetch the window again (trades and ratings by default); with dry_run, only count."""
    now = start_run(as_of)
    shops = list_shops([shop])
    if not shops:
        raise ValueError(f"no active shop {shop!r}")
    start, end = given_time(start), given_time(end)
    counts = resync_shop_window(
        shops[0], start, end, streams or ["trades", "ratings"], dry_run, now
    )
    publish_report(
        "resync-window",
        now,
        dict(sorted(counts.items())),
        dry_run=dry_run,
        note=f"：店铺 {shop}，{start.astimezone(CHINA):%Y-%m-%d %H:%M} 至 "
        f"{end.astimezone(CHINA):%Y-%m-%d %H:%M}",
    )
    return counts
