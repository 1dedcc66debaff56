"""Flow `recheck-shipments`: query the courier again for given waybills or a filter."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from aftercare.settings import get_settings
from flows.common import add_counts, chunked, publish_report, run_bounded, run_name, start_run
from tasks.recovery import select_shipments
from tasks.shipments import track_shipments


@flow(name="recheck-shipments", flow_run_name=run_name("recheck-shipments"))
def recheck_shipments(
    waybills: list[str] | None = None,
    courier: str | None = None,
    anomaly: str | None = None,
    shop: str | None = None,
    dry_run: bool = True,  # an operator sees what would happen before it does
    as_of: datetime | None = None,
) -> dict[str, int]:
    """Re-check matching parcels now (never a waybill queried in the last 30 minutes)."""
    now = start_run(as_of)
    if not (waybills or courier or anomaly or shop):
        raise ValueError("give waybills or at least one filter (courier, anomaly, shop)")
    selected = select_shipments(waybills or [], courier, anomaly, shop, dry_run, now)
    ids = selected.ids
    chunks = list(chunked(ids, get_settings().logistics.chunk_size))
    results, failures = run_bounded(
        lambda chunk, n: track_shipments.submit(chunk, now, f"recheck-{n}"),
        chunks,
        get_settings().logistics.max_concurrent_chunks,
        progress=f"重查 {len(ids)} 个包裹",
    )
    summary = {
        "matched": selected.matched,
        "too_soon_to_query": selected.matched - selected.allowed,
        ("would_recheck" if dry_run else "rechecked"): selected.allowed,
        **add_counts(results),
        "chunks_failed": len(failures),
    }
    publish_report(
        "recheck-shipments", now, summary, dry_run=dry_run, failures=failures, parts=len(chunks)
    )
    return summary
