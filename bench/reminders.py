"""Benchmark: unpaid-order-reminders over N orders (default 100,000) in the sandbox.

Prints orders per second for the sync and for the reminder decisions, peak memory, and the
plan of the due-order query. A script, not a test: figures on a shared machine are noisy.

    .venv/bin/python -m bench.reminders [--orders 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import UTC, datetime

from bench.common import bench_database, prefect_task_seconds, query_plan, sandbox_process

ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    database_url = bench_database(args.database_url)
    weights = {"unpaid": 80, "closed": 5, "paid": 5, "shipped": 10}
    with sandbox_process(-(-args.orders // 3), ANCHOR, stage_weights=weights) as base:
        os.environ.update(
            {
                "AFTERCARE_DATABASE_URL": database_url,
                "AFTERCARE_KUAIDI100_URL": f"{base}/kuaidi100",
                "AFTERCARE_TAOBAO_URL": f"{base}/taobao/router/rest",
                "AFTERCARE_SMS_URL": f"{base}/sms/",
                "AFTERCARE_SYNC__PAGE_SIZE": "100",
            }
        )
        run(database_url, args.orders)


def run(database_url: str, orders: int) -> None:
    """Migrate, register shops, run the flow once at the anchor, print the figures."""
    from sqlalchemy import func, select
    from sqlmodel import col

    from aftercare.settings import get_settings
    from aftercare.store.reminders import due_orders_query
    from deployments.sandbox_world import register_sandbox_shops
    from flows.unpaid_reminders import unpaid_order_reminders
    from models import Order, OutboxMessage
    from models.db import get_engine, session_scope
    from models.migrate import upgrade

    get_settings.cache_clear()
    upgrade(database_url)
    register_sandbox_shops(database_url)

    started = time.perf_counter()
    state = unpaid_order_reminders(as_of=ANCHOR, return_state=True)
    elapsed = time.perf_counter() - started
    summary = state.result()
    tasks = prefect_task_seconds(state.state_details.flow_run_id)

    with session_scope(database_url) as session:
        synced = session.scalar(select(func.count()).select_from(Order)) or 0
        unpaid = col(OutboxMessage.purpose).like("unpaid_%")
        decided = session.scalar(select(func.count()).select_from(OutboxMessage).where(unpaid)) or 0
    engine = get_engine(database_url)
    plan = query_plan(database_url, due_orders_query(ANCHOR, 500))

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sync_s = tasks.get("sync-trades", 0.0)
    decide_s = tasks.get("decide-reminders", 0.0) + tasks.get("claim-due-orders", 0.0)
    print(f"machine: {os.cpu_count()} cores; database: {engine.dialect.name}")
    print(f"orders in the sandbox: {orders:,}; synced: {synced:,}; reminder decisions: {decided:,}")
    print(f"flow run: {elapsed:.1f} s wall, {synced / elapsed:,.0f} orders/s end to end")
    sync_rate = synced / max(sync_s, 1e-9)
    print(f"  sync (task time, summed over shops): {sync_s:.1f} s, {sync_rate:,.0f} orders/s")
    print(
        f"  claim + decide (task time, summed over chunks): {decide_s:.1f} s, "
        f"{decided / max(decide_s, 1e-9):,.0f} orders/s"
    )
    print(f"queued {summary['queued']:,}, suppressed {summary['suppressed']:,}")
    print(f"peak RSS of this process: {peak_mb:,.0f} MB")
    print(f"due-order query plan:\n  {plan}")


if __name__ == "__main__":
    main()
