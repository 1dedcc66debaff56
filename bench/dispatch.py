"""Benchmark: dispatch-messages sending N queued SMS at the provider's ceiling.

.venv/bin/python -m bench.dispatch [--messages 20000] [--latency-ms 20] [--ceiling 200]
"""

from __future__ import annotations

import argparse
import os
import resource
from datetime import UTC, datetime

import requests

from bench.common import bench_database, prefect_task_window, query_plan, sandbox_process

ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def main() -> None:
    """Queue the messages, dispatch them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--ceiling", type=float, default=200.0)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    database_url = bench_database(args.database_url)
    faults = {"sms": {"latency_ms": args.latency_ms, "max_rps": args.ceiling}}
    with sandbox_process(10, ANCHOR, faults=faults) as base:
        os.environ.update(
            {
                "AFTERCARE_DATABASE_URL": database_url,
                "AFTERCARE_SMS_URL": f"{base}/sms/",
                "AFTERCARE_SMS_SENDS_PER_SECOND": str(args.ceiling),
                "AFTERCARE_DISPATCH__MAX_CONCURRENT_BATCHES": "8",
                "AFTERCARE_DISPATCH__BATCH_SIZE": "250",
            }
        )
        run(base, database_url, args)


def run(base: str, database_url: str, args: argparse.Namespace) -> None:
    """Queue N messages to distinct phones, send them in one run, compare with the sandbox."""
    from sqlmodel import select

    from aftercare.settings import get_settings
    from aftercare.store.outbox import Recipient, due_messages_query, enqueue, message_row
    from deployments.sandbox_world import register_sandbox_shops
    from flows.dispatch_messages import dispatch_messages
    from models import Shop
    from models.db import session_scope
    from models.migrate import upgrade

    get_settings.cache_clear()
    upgrade(database_url)
    register_sandbox_shops(database_url)
    with session_scope(database_url) as session:
        shop = session.exec(select(Shop).where(Shop.code == "sishi")).one()
        rows = [
            message_row(
                key=f"bench:{n}",
                template="logistics_stalled_minor",
                params={"shop": shop.name, "courier": "圆通速递", "waybill": f"YT{n:013d}"},
                recipient=Recipient(shop.id or 0, None, None, str(13_000_000_000 + n)),
                now=ANCHOR,
            )
            for n in range(args.messages)
        ]
        enqueue(session=session, rows=rows)

    state = dispatch_messages(as_of=ANCHOR, return_state=True)
    summary = state.result()
    first, last = prefect_task_window(state.state_details.flow_run_id, "send-messages")
    rate = summary.get("sent", 0) / max(last - first, 1e-9)
    accepted = requests.get(f"{base}/_sandbox/stats", timeout=10).json()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {os.cpu_count()} cores; database: {database_url.split(':')[0]}")
    print(f"{args.messages:,} queued; latency {args.latency_ms} ms, ceiling {args.ceiling:.0f}/s")
    print(
        f"sent {summary.get('sent', 0):,} in one run: {rate:,.1f} messages/s = "
        f"{rate / args.ceiling:.0%} of the ceiling"
    )
    print(f"other outcomes: { {k: v for k, v in summary.items() if k not in ('sent', 'claimed')} }")
    print(f"provider accepted (sandbox count): {accepted.get('sms_accepted')}")
    print(f"peak RSS of the pipeline process: {peak:,.0f} MB")
    plan = query_plan(database_url, due_messages_query(ANCHOR, 200))
    print(f"due-message query plan:\n  {plan}")


if __name__ == "__main__":
    main()
