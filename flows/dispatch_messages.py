"""Flow `dispatch-messages`: send pending outbox messages, exactly once per idempotency key."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from aftercare.settings import get_settings
from flows.common import add_counts, start_run
from tasks.outbox import reconcile_unknown_sends, send_messages


@flow(name="dispatch-messages")
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
    while totals["claimed"] < limit:
        # Each batch claims its own rows, so concurrent batches (and runs) never share one.
        wave = [
            send_messages.submit(now, batch_no := batch_no + 1)
            for _ in range(settings.max_concurrent_batches)
        ]
        results = [future.result() for future in wave]
        totals.update(add_counts(results))
        if any(r.get("claimed", 0) < settings.batch_size for r in results):
            break  # the queue is drained
    logger.info("dispatch: %s", dict(totals))
    create_table_artifact(
        key="dispatch-messages-summary",
        table=[{"figure": k, "value": v} for k, v in sorted(totals.items())],
        description=f"dispatch-messages as of {now:%Y-%m-%d %H:%M} UTC",
    )
    return dict(totals)
