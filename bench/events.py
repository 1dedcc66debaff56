"""Benchmark: latency from a platform event to its trade being stored.

The sandbox's world changes minute by minute (orders placed, paid, closed, shipped); the
channel publishes each change. With `--transport poll`, `platform-events` runs every
`--poll-seconds` of simulated time and polls, as its deployment does. With `--transport
stream`, the WebSocket consumer pulls every `--poll-seconds` (its pull wait) and each pull that
stored something is followed by the `platform-events` run its event asks for. For every
message it prints the latency from the moment the platform published it to the moment its
trade was re-read and saved (simulated waiting plus the real time the consumer and the run
took), p50 and p99, and the run's own time.

    .venv/bin/python -m bench.events [--orders-per-shop 20000] [--minutes 60]
    .venv/bin/python -m bench.events --transport stream --poll-seconds 2 --minutes 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.common import bench_database

ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders-per-shop", type=int, default=20_000)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--poll-seconds", type=int, default=60)
    parser.add_argument("--transport", choices=["poll", "stream"], default="poll")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from sqlmodel import col, select

    from aftercare.clock import pin_world_clock
    from aftercare.settings import get_settings
    from deployments.message_stream import MessageConsumer
    from deployments.sandbox_world import (
        SANDBOX_ENDPOINTS,
        register_sandbox_shops,
        sandbox_environment,
    )
    from flows.platform_events import platform_events
    from models import PlatformMessage
    from models.db import session_scope
    from models.migrate import upgrade
    from sandbox import Sandbox, SandboxConfig

    database_url = bench_database(args.database_url)
    weights = {"unpaid": 60.0, "closed": 5.0, "paid": 10.0, "shipped": 25.0}
    config = SandboxConfig(
        seed=7,
        orders_per_shop=args.orders_per_shop,
        anchor=ANCHOR,
        clock_tick=False,
        stage_weights=weights,
    )
    built = time.perf_counter()
    with Sandbox(config) as sandbox:
        urls = {name: sandbox.url(name) for name in SANDBOX_ENDPOINTS}
        os.environ.update(sandbox_environment(urls, database_url))
        os.environ.update(
            {
                "AFTERCARE_EVENTS__ENABLED": "true",
                "AFTERCARE_EVENTS__TRANSPORT": args.transport,
                "AFTERCARE_EVENTS__STREAM_WAIT_SECONDS": "0.05",
                "AFTERCARE_EVENTS__TRIGGER_SECONDS": "0",  # simulated time runs faster
                "AFTERCARE_SYNC__POLL_TRADES": "false",
                "AFTERCARE_TAOBAO_CALLS_PER_SECOND": "2000",
            }
        )
        get_settings.cache_clear()
        upgrade(database_url)
        register_sandbox_shops(database_url)
        built_in = time.perf_counter() - built
        print(f"world of {3 * args.orders_per_shop:,} orders built in {built_in:.0f} s")

        pin_world_clock(sandbox.clock.now)
        moment = ANCHOR - timedelta(minutes=args.minutes)
        sandbox.clock.set(moment)
        platform_events(as_of=moment)  # the shops' messages start here
        asked: list[int] = []
        consumer = MessageConsumer(get_settings(), emit=asked.append)
        latencies: list[float] = []
        run_seconds: list[float] = []
        while moment < ANCHOR:
            moment += timedelta(seconds=args.poll_seconds)
            sandbox.clock.set(moment)
            started = time.perf_counter()
            if args.transport == "stream":
                consumer.step()
                if not asked:
                    continue  # nothing stored: no run asked for
                asked.clear()
            platform_events(as_of=moment)
            took = time.perf_counter() - started
            run_seconds.append(took)
            with session_scope(database_url) as session:
                published = session.exec(
                    select(PlatformMessage.published_at).where(
                        col(PlatformMessage.applied_at) == moment
                    )
                ).all()
            latencies += [(moment - p).total_seconds() + took for p in published if p]

    print(
        f"{len(latencies):,} messages over {args.minutes} simulated minutes, "
        f"{args.transport} every {args.poll_seconds} s; database: {database_url.split(':')[0]}"
    )
    if latencies:
        print(
            f"event -> trade stored: p50 {percentile(latencies, 0.5):.1f} s, "
            f"p99 {percentile(latencies, 0.99):.1f} s (waiting for the pull or poll included)"
        )
    print(
        f"one platform-events run: p50 {statistics.median(run_seconds):.2f} s, "
        f"p99 {percentile(run_seconds, 0.99):.2f} s"
    )


if __name__ == "__main__":
    main()
