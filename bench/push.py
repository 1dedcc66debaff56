"""Benchmark: the push receiver, and the logistics flow draining what it stored.

The sandbox (in this process) fires signed Kuaidi100 pushes at the receiver (its own process,
uvicorn) from several threads; we print pushes per second acknowledged and the p99 latency of
the acknowledgement, then drain the inbox with logistics-check and print pushes per second end
to end. A script, not a test: the machines are shared and noisy.

    .venv/bin/python -m bench.push [--pushes 5000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.common import free_port, query_plan

ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def main() -> None:
    """Run the burst and the drain, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--shipments", type=int, default=3000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
    database_url = f"sqlite:///{workdir}/bench.db"
    from sandbox import Sandbox, SandboxConfig

    sandbox = Sandbox(
        SandboxConfig(
            seed=7,
            orders_per_shop=-(-args.shipments // 3),
            anchor=ANCHOR,
            clock_tick=False,
            stage_weights={"unpaid": 0, "closed": 0, "paid": 0, "shipped": 100},
        )
    )
    base = sandbox.start()
    port = free_port()
    os.environ.update(
        {
            "AFTERCARE_DATABASE_URL": database_url,
            "AFTERCARE_KUAIDI100_URL": f"{base}/kuaidi100",
            "AFTERCARE_TAOBAO_URL": f"{base}/taobao/router/rest",
            "AFTERCARE_TAOBAO_CALLS_PER_SECOND": "1000",
            "AFTERCARE_KUAIDI100_QUERIES_PER_SECOND": "1000",
            "AFTERCARE_SYNC__PAGE_SIZE": "100",
            "AFTERCARE_LOGISTICS__SUBSCRIBE": "false",
        }
    )
    from aftercare.settings import get_settings
    from deployments.sandbox_world import register_sandbox_shops
    from models.migrate import upgrade

    get_settings.cache_clear()
    upgrade(database_url)
    register_sandbox_shops(database_url)
    receiver = subprocess.Popen(
        [str(Path(sys.executable).parent / "aftercare"), "receiver", "--port", str(port)],
        env=os.environ.copy(),
    )
    try:
        _wait(f"http://127.0.0.1:{port}/health")
        run(sandbox, f"http://127.0.0.1:{port}/kuaidi100/push", args)
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)
        sandbox.stop()


def run(sandbox: object, url: str, args: argparse.Namespace) -> None:
    """Sync the parcels, burst pushes at the receiver, drain them with the flow."""
    from aftercare.settings import get_settings
    from flows.logistics_check import logistics_check

    logistics_check(as_of=ANCHOR)  # orders and parcels on file, so the pushes find them
    salt = get_settings().kuaidi100_salt.get_secret_value()
    burst = sandbox.push_burst(args.pushes, url=url, salt=salt, concurrency=args.concurrency)  # type: ignore[attr-defined]
    print(f"machine: {os.cpu_count()} cores; database: sqlite")
    print(
        f"receiver: {burst.acknowledged:,} of {args.pushes:,} pushes acknowledged, "
        f"{burst.pushes_per_second:,.0f}/s with {args.concurrency} senders; "
        f"p50 {burst.p50 * 1000:.0f} ms, p99 {burst.p99 * 1000:.0f} ms"
    )
    from sqlmodel import func, select

    from models import TrackingPush
    from models.db import session_scope

    with session_scope(get_settings().database_url) as session:
        stored = session.exec(select(func.count()).select_from(TrackingPush)).one()
    print(f"inbox: {stored:,} distinct pushes stored (a repeated identical push is kept once)")
    started = time.perf_counter()
    summary = logistics_check(as_of=ANCHOR)
    drained = summary.get("push:pushes", 0)
    elapsed = time.perf_counter() - started
    print(
        f"drain: {drained:,} pushes into scans, statuses and cases in {elapsed:.1f} s "
        f"({drained / elapsed:,.0f}/s, flow run included)"
    )
    from aftercare.store.inbox import waiting_pushes_query

    plan = query_plan(get_settings().database_url, waiting_pushes_query(ANCHOR, 500))
    print(f"waiting-push query plan:\n  {plan}")


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)  # waiting for a process we started
    raise TimeoutError(url)


if __name__ == "__main__":
    main()
