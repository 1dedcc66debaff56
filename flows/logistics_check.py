"""Flow `logistics-check`: sync shipped orders, check due parcels, open cases, queue notices."""

from __future__ import annotations

import uuid
from datetime import datetime

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture

from aftercare.settings import get_settings
from aftercare.store.outbox import counts_by_status
from flows.common import (
    add_counts,
    chunked,
    publish_report,
    results_as_they_finish,
    run_bounded,
    run_name,
    start_run,
)
from models.db import session_scope
from tasks.shipments import claim_shipments, track_shipments
from tasks.shops import list_shops
from tasks.subscriptions import subscribe_shipments
from tasks.tracking_push import drain_pushes
from tasks.trades import sync_trades

MAX_DRAIN_BATCHES = 1000


def drain_inbox(now: datetime) -> list[dict[str, int]]:
    """Drain the push inbox batch by batch, each batch's parcels reviewed as they are recorded."""
    reviewed = []
    for number in range(1, MAX_DRAIN_BATCHES + 1):
        counts = drain_pushes(now, f"batch-{number}")
        if counts["pushes"] == 0:
            break
        reviewed.append(counts)
    return reviewed


@flow(name="logistics-check", flow_run_name=run_name("logistics-check"))
def logistics_check(
    as_of: datetime | None = None,
    shops: list[str] | None = None,
    max_shipments: int | None = None,
) -> dict[str, int]:
    """Check every parcel that is due and follow up what is wrong with it."""
    now = start_run(as_of)
    settings = get_settings().logistics
    logger = get_run_logger()

    shop_list = list_shops(shops)
    syncs = [sync_trades.submit(shop, now) for shop in shop_list]
    progress = f"同步 {len(syncs)} 个店铺的订单"
    sync_totals = add_counts(f.result() for f in results_as_they_finish(syncs, progress))

    pushed = add_counts(drain_inbox(now))
    if settings.subscribe:
        pushed.update(subscribe_shipments(now))

    owner = f"logistics-{uuid.uuid4().hex[:12]}"
    ids = claim_shipments(now, owner, max_shipments or settings.max_shipments_per_run)
    chunks = list(chunked(ids, settings.chunk_size))
    logger.info("%d parcels due, in %d chunks", len(ids), len(chunks))

    def submit(chunk: list[int], number: int) -> PrefectFuture[dict[str, int]]:
        return track_shipments.submit(chunk, now, f"chunk-{number}-of-{len(chunks)}")

    reviews, failures = run_bounded(
        submit, chunks, settings.max_concurrent_chunks, progress=f"查询 {len(ids)} 个包裹"
    )
    totals = add_counts(reviews)
    with session_scope(get_settings().database_url) as session:
        messages = counts_by_status(session=session, since=now)
    summary = {
        "shops": len(shop_list),
        "trades_synced": sync_totals["trades"],
        "new_shipments": sync_totals["new_shipments"],
        "trades_rejected": sync_totals["rejected"],
        "shipments_due": len(ids),
        "chunks_failed": len(failures),
        **{k: v for k, v in sorted(totals.items())},
        **{f"push:{k}": v for k, v in sorted(pushed.items())},
        **{f"messages:{k}": v for k, v in sorted(messages.items())},
    }
    publish_report(
        "logistics-check",
        now,
        summary,
        key="logistics-check-summary",
        failures=failures,
        parts=len(chunks),
    )
    return summary
