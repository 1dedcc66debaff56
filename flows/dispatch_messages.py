"""Flow `dispatch-messages`: send pending outbox messages, exactly once per idempotency key."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from aftercare.settings import get_settings
from flows.common import add_counts, run_name, start_run
from tasks.outbox import reconcile_unknown_sends, send_messages


def batch_sizes(remaining: int, batch_size: int, concurrency: int) -> list[int]:
    """Split what may still be sent in this run into at most `concurrency` batches."""
    count = min(concurrency, -(-remaining // batch_size))
    share = min(batch_size, -(-remaining // count))
    sizes = [share] * count
    sizes[-1] = min(share, remaining - share * (count - 1))
    return [s for s in sizes if s > 0]


@flow(name="dispatch-messages", flow_run_name=run_name("dispatch-messages"))
def dispatch_messages(
    as_of: datetime | None = None, max_messages: int | None = None
) -> dict[str, int]:
    """Settle messages of unknown outcome, then send due messages in concurrent batches."""
    now = start_run(as_of)
    settings = get_settings().dispatch
    logger = get_run_logger()
    limit = max_messages or settings.max_messages_per_run

    totals = add_counts([reconcile_unknown_sends(now)])
    batch_no = 0
    while (remaining := limit - totals["claimed"]) > 0:
        # Each batch claims its own rows, so concurrent batches (and runs) never share one.
        sizes = batch_sizes(remaining, settings.batch_size, settings.max_concurrent_batches)
        wave = [send_messages.submit(now, batch_no := batch_no + 1, size) for size in sizes]
        results = [future.result() for future in wave]
        totals.update(add_counts(results))
        if any(r.get("claimed", 0) < size for r, size in zip(results, sizes, strict=True)):
            break  # the queue is drained
    logger.info("dispatch: %s", dict(totals))
    create_table_artifact(
        key="dispatch-messages-summary",
        table=[{"figure": k, "value": v} for k, v in sorted(totals.items())],
        description=f"dispatch-messages as of {now:%Y-%m-%d %H:%M} UTC",
    )
    return dict(totals)
