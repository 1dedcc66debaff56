"""Flow `dispatch-messages`: send pending outbox messages, exactly once per idempotency key."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture

from aftercare.settings import get_settings
from flows.common import Progress, first_finished, publish_report, run_name, start_run
from tasks.outbox import send_messages
from tasks.reconcile import count_due_messages, reconcile_unknown_sends

SUMMARY_KEY = "dispatch-messages-summary"


def batch_sizes(remaining: int, batch_size: int, concurrency: int) -> list[int]:
    """Split what may still be sent in this run into at most `concurrency` (> 0) batches."""
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

    totals: Counter[str] = Counter()
    progress = Progress("发送到期的短信", count_due_messages(now, limit))
    numbers = itertools.count(1)
    # Messages of unknown outcome are looked up in batches beside the sending, one batch at a
    # time: a provider that cannot answer for some of them holds nothing else back.
    running: dict[PrefectFuture[dict[str, int]], tuple[str, int]] = {}
    asked, drained, reconciling = 0, False, True
    while True:
        # A batch starts as soon as another ends: waiting for a whole wave would leave the
        # provider's ceiling idle behind the wave's slowest batch.
        free = settings.max_concurrent_batches - len(running)
        if reconciling and free > 0 and not any(k == "reconcile" for k, _ in running.values()):
            size = settings.reconcile_batch_size
            running[reconcile_unknown_sends.submit(now, size)] = ("reconcile", size)
            free -= 1
        if not drained and free > 0 and asked < limit:
            # Each batch claims its own rows, so concurrent batches (and runs) never share one.
            for size in batch_sizes(limit - asked, settings.batch_size, free):
                running[send_messages.submit(now, next(numbers), size)] = ("send", size)
                asked += size
        if not running:
            break
        done = first_finished(running)
        kind, size = running.pop(done)
        result = done.result()
        totals.update(result)
        if kind == "reconcile":
            reconciling = result.get("in_doubt_claimed", 0) >= size
            drained = drained and not result.get("requeued")  # never sent: due again now
        if kind == "send":
            progress.advance(result.get("claimed", 0))
        if kind == "send" and result.get("claimed", 0) < size:
            drained = True  # the queue is empty; the batches still running finish their claims
    logger.info("dispatch: %s", dict(totals))
    publish_report("dispatch-messages", now, dict(sorted(totals.items())), key=SUMMARY_KEY)
    return dict(totals)
