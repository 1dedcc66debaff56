"""Benchmark: logistics-check polling N due parcels against the sandbox courier.

Part 1: the courier answers in 20 ms and allows 200 queries/s; prints parcels per second, the
ratio to that ceiling and peak memory. Part 2: no ceiling; our chunked pipeline against a naive
baseline (one Prefect task per parcel, one after the other), side by side. A script, not a
test: the machines are shared and noisy.

    .venv/bin/python -m bench.logistics [--shipments 10000] [--latency-ms 20] [--ceiling 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import UTC, datetime, timedelta

import requests

from bench.common import bench_database, prefect_task_window, query_plan, sandbox_process

ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NAIVE_SAMPLE = 300


def main() -> None:
    """Run both parts and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--ceiling", type=float, default=200.0)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    database_url = bench_database(args.database_url)
    faults = {"kuaidi100": {"latency_ms": args.latency_ms, "max_rps": args.ceiling}}
    weights = {"unpaid": 0, "closed": 0, "paid": 0, "shipped": 100}
    per_shop = -(-args.shipments // 3)
    with sandbox_process(per_shop, ANCHOR, stage_weights=weights, faults=faults) as base:
        os.environ.update(
            {
                "AFTERCARE_DATABASE_URL": database_url,
                "AFTERCARE_KUAIDI100_URL": f"{base}/kuaidi100",
                "AFTERCARE_TAOBAO_URL": f"{base}/taobao/router/rest",
                "AFTERCARE_SMS_URL": f"{base}/sms/",
                "AFTERCARE_TAOBAO_CALLS_PER_SECOND": "1000",
                "AFTERCARE_SYNC__PAGE_SIZE": "100",
                "AFTERCARE_LOGISTICS__SUBSCRIBE": "false",
                "AFTERCARE_LOGISTICS__MAX_CONCURRENT_CHUNKS": "4",
                "AFTERCARE_LOGISTICS__QUERIES_IN_FLIGHT_PER_CHUNK": "8",
                # Pace ourselves at the provider's ceiling rather than bouncing off it.
                "AFTERCARE_KUAIDI100_QUERIES_PER_SECOND": str(args.ceiling),
            }
        )
        run(base, database_url, args)


def run(base: str, database_url: str, args: argparse.Namespace) -> None:
    """Sync, then poll with a ceiling, then without, then the naive baseline."""
    from aftercare.settings import get_settings
    from deployments.sandbox_world import register_sandbox_shops
    from models.migrate import upgrade

    get_settings.cache_clear()
    upgrade(database_url)
    register_sandbox_shops(database_url)
    print(f"machine: {os.cpu_count()} cores; database: {database_url.split(':')[0]}")

    rate, due, _ = poll_once(ANCHOR)
    print(f"\n1. {due:,} parcels due, latency {args.latency_ms} ms, ceiling {args.ceiling:.0f}/s")
    print(f"   polling: {rate:,.1f} parcels/s = {rate / args.ceiling:.0%} of the ceiling")
    print(f"   peak RSS so far: {peak_mb():,.0f} MB")

    # Part 2: no ceiling. Everything is due again half an hour later (no waybill lock).
    requests.post(
        f"{base}/_sandbox/faults", json={"kuaidi100": {"latency_ms": args.latency_ms}}, timeout=5
    )
    os.environ["AFTERCARE_KUAIDI100_QUERIES_PER_SECOND"] = "100000"
    get_settings.cache_clear()
    later = ANCHOR + timedelta(minutes=31)
    make_all_due(database_url, later, base)
    ours, due, ours_cpu = poll_once(later)
    evenlater = later + timedelta(minutes=31)
    make_all_due(database_url, evenlater, base)
    naive, naive_cpu = naive_baseline(evenlater, NAIVE_SAMPLE)
    print(f"\n2. no ceiling, courier latency {args.latency_ms} ms")
    cfg = get_settings().logistics
    print(
        f"   ours (chunks of {cfg.chunk_size}, {cfg.max_concurrent_chunks} at a time, "
        f"{cfg.queries_in_flight_per_chunk} queries in flight each): {ours:,.1f} parcels/s, "
        f"{ours_cpu:.2f} ms of CPU per parcel"
    )
    print(
        f"   naive (one task per parcel, in sequence): {naive:,.1f} parcels/s over {NAIVE_SAMPLE}, "
        f"{naive_cpu:.2f} ms of CPU per parcel"
    )
    print(f"   ratio: {ours / naive:.1f}x")
    print(f"\npeak RSS of the pipeline process: {peak_mb():,.0f} MB")
    from aftercare.store.shipments import due_shipments_query, subscriptions_due_query

    print(f"due-parcel query plan:\n  {query_plan(database_url, due_shipments_query(ANCHOR, 200))}")
    plan = query_plan(database_url, subscriptions_due_query(ANCHOR, 200))
    print(f"subscription-due query plan:\n  {plan}")


def poll_once(as_of: datetime) -> tuple[float, int, float]:
    """Run logistics-check; return parcels per second over the polling phase, parcels due and
    this process's CPU milliseconds per parcel over the whole run."""
    from flows.logistics_check import logistics_check

    cpu = time.process_time()
    state = logistics_check(as_of=as_of, return_state=True)
    cpu = time.process_time() - cpu
    summary = state.result()
    first, last = prefect_task_window(state.state_details.flow_run_id, "track-shipments")
    due = summary["shipments_due"]
    return due / max(last - first, 1e-9), due, 1000 * cpu / max(due, 1)


def make_all_due(database_url: str, at: datetime, base: str) -> None:
    """Make every undelivered parcel due at `at`, and move the sandbox clock there."""
    from sqlalchemy import update

    from models import Shipment
    from models.db import session_scope

    with session_scope(database_url) as session:
        session.execute(update(Shipment).values(next_check_at=at, last_checked_at=None))
    requests.post(f"{base}/_sandbox/clock", json={"now": at.isoformat()}, timeout=5)


def naive_baseline(as_of: datetime, sample: int) -> tuple[float, float]:
    """Check `sample` parcels the naive way (one Prefect task per parcel, in sequence); return
    parcels per second and CPU milliseconds per parcel.

    Each task does a chunk's work for its one parcel (query, record, review, in one
    transaction as track-shipments does), so the ratio compares ways of doing the same job.
    """
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from sqlmodel import col, select

    from aftercare.courier_checks import check_parcel
    from aftercare.settings import get_settings
    from aftercare.store.parcel_review import review_parcels
    from aftercare.store.shipments import load_for_check, record_checks
    from models import Shipment
    from models.db import session_scope
    from tasks import limits

    @task(cache_policy=NO_CACHE)
    def check_one(shipment_id: int) -> None:
        settings = get_settings()
        with session_scope(settings.database_url) as session:
            parcel = load_for_check(session=session, ids=[shipment_id])[0]
        outcome = check_parcel(limits.kuaidi100(settings), parcel)
        with session_scope(settings.database_url) as session:
            record_checks(
                session=session, outcomes=[outcome], now=as_of, thresholds=settings.logistics
            )
            review_parcels(
                session=session,
                ids=[shipment_id],
                as_of=as_of,
                thresholds=settings.logistics,
                channels=settings.channels,
            )

    @flow(name="naive-logistics-baseline")
    def naive(ids: list[int]) -> None:
        for shipment_id in ids:
            check_one(shipment_id)

    with session_scope(get_settings().database_url) as session:
        ids = list(
            session.exec(
                select(Shipment.id).where(col(Shipment.courier).is_not(None)).limit(sample)
            )
        )
    started, cpu = time.perf_counter(), time.process_time()
    naive([i for i in ids if i is not None])
    cpu = time.process_time() - cpu
    return len(ids) / (time.perf_counter() - started), 1000 * cpu / len(ids)


def peak_mb() -> float:
    """Return this process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
