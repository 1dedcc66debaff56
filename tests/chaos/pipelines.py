"""Drive each pipeline as a scheduler would, and read what it did on both sides of the wire."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from aftercare.settings import get_settings
from flows.dispatch_messages import dispatch_messages
from models import AfterSalesCase, OutboxMessage, RejectedRecord, Shipment
from models.db import get_engine, session_scope
from models.migrate import upgrade
from sandbox import FaultConfig, Sandbox, SandboxConfig
from tests.conftest import ANCHOR

PROVIDERS = ("kuaidi100", "taobao", "sms", "dingtalk")
# 30% 5xx, a 429 burst with Retry-After every 80 calls, time-outs, dropped connections and
# slow answers, on every provider at once. A time-out waits longer than the client's read
# time-out (CLIENT_ENV), so the client really gives up on it.
CHAOS = FaultConfig(
    error_rate=0.3,
    timeout_rate=0.01,
    timeout_seconds=1.0,
    drop_rate=0.03,
    latency_ms=15,
    burst_every=80,
    burst_length=2,
    retry_after=1,
)
CLIENT_ENV = {
    "AFTERCARE_RETRY__MAX_ATTEMPTS": "10",
    "AFTERCARE_RETRY__READ_TIMEOUT_SECONDS": "0.5",
}
OPEN = ("pending", "sending")
CASE_ID = re.compile(r"#(\d+)")


def world_config() -> SandboxConfig:
    """The sandbox the shared fixture starts: the same seed gives the same world."""
    return SandboxConfig(seed=7, orders_per_shop=60, anchor=ANCHOR, clock_tick=False)


def unleash(sandbox: Sandbox, monkeypatch: Any) -> None:
    """Put every provider of the sandbox under CHAOS, with the client settings to match."""
    for key, value in CLIENT_ENV.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    for provider in PROVIDERS:
        sandbox.faults.set(provider, CHAOS)


@contextmanager
def reference_world(tmp_path: Any) -> Iterator[tuple[Sandbox, str]]:
    """Switch the settings to a fault-free twin of the test's world and database, then back."""
    from deployments.sandbox_world import register_sandbox_shops, sandbox_environment

    url = f"sqlite:///{tmp_path}/reference.db"
    upgrade(url)
    with Sandbox(world_config()) as twin:
        twin.clock.set(ANCHOR)
        env = sandbox_environment({p: twin.url(p) for p in PROVIDERS}, url)
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        get_settings.cache_clear()
        register_sandbox_shops(url)
        try:
            yield twin, url
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            get_settings.cache_clear()
            get_engine(url).dispose()


def rerun(
    run: Callable[[], Any], done: Callable[[], bool] = lambda: True, *, limit: int = 5
) -> list[str]:
    """Run a flow until it succeeds and `done()`, at most `limit` times; return its failures."""
    failures: list[str] = []
    for _ in range(limit):
        try:
            run()
        except Exception as error:  # a failed flow run: the scheduler runs it again
            failures.append(f"{type(error).__name__}: {error}"[:200])
            continue
        if done():
            return failures
    raise AssertionError(f"not done after {limit} runs: {failures}")


@dataclass
class Dispatched:
    """What a series of dispatch runs did, and every failure they recorded on the way."""

    runs: int = 0
    now: datetime = ANCHOR
    failures_recorded: Counter[str] = field(default_factory=Counter)
    unrecorded: list[str] = field(default_factory=list)


def open_messages(url: str) -> list[OutboxMessage]:
    """Messages still to be sent: pending, sending, or failed and to be retried."""
    with session_scope(url) as session:
        return [
            m
            for m in session.exec(select(OutboxMessage))
            if m.status in OPEN or (m.status == "failed" and m.retryable)
        ]


def dispatch_until_done(url: str, now: datetime, *, step_minutes: int = 6) -> Dispatched:
    """Run dispatch-messages every few minutes until no message is left to send."""
    result = Dispatched(now=now)
    for _ in range(20):
        dispatch_messages(as_of=result.now)
        result.runs += 1
        left = open_messages(url)
        for message in left:
            if message.status == "pending" and not message.attempts:
                continue  # not tried yet (deferred by the gap or the send window)
            if message.last_error:
                result.failures_recorded[message.last_error.split(":")[0]] += 1
            else:
                result.unrecorded.append(message.idempotency_key)
        if not left:
            return result
        result.now += timedelta(minutes=step_minutes)
    raise AssertionError(f"messages still open after {result.runs} dispatch runs")


@dataclass(frozen=True)
class Outcome:
    """Everything a pipeline decided, keyed by business keys that do not depend on row ids."""

    cases: dict[str, tuple[str, str | None]]
    messages: dict[str, tuple[str, str | None]]
    shipments: dict[str, str | None]
    rejected: dict[str, str]

    @classmethod
    def read(cls, url: str) -> Outcome:
        """Read the outcome from a database."""
        with session_scope(url) as session:
            return cls(
                cases={
                    c.case_key: (c.state, (c.close_reason or "").split(":")[0] or None)
                    for c in session.exec(select(AfterSalesCase))
                },
                messages={
                    m.idempotency_key: (m.status, m.reason)
                    for m in session.exec(select(OutboxMessage))
                },
                shipments={s.waybill: s.status for s in session.exec(select(Shipment))},
                rejected={
                    f"{r.source}:{r.record_key}": r.reason
                    for r in session.exec(select(RejectedRecord))
                },
            )

    def sent(self) -> set[str]:
        """Return the keys of the messages recorded as sent."""
        return {key for key, (status, _) in self.messages.items() if status == "sent"}


def compare(chaos: Outcome, reference: Outcome) -> list[str]:
    """List every difference between the outcome under faults and the fault-free one."""
    differences = []
    for name in ("cases", "messages", "shipments", "rejected"):
        got, want = getattr(chaos, name), getattr(reference, name)
        for key in sorted(set(got) | set(want)):
            if got.get(key) != want.get(key):
                differences.append(f"{name} {key}: {got.get(key)} instead of {want.get(key)}")
    return differences


def alerts_per_case(sandbox: Sandbox) -> Counter[int]:
    """Count, per case id, the robot digests that mention it."""
    return Counter(
        int(case_id)
        for message in sandbox.robot_messages
        for case_id in set(CASE_ID.findall(message.text))
    )


def figures(
    pipeline: str, sandbox: Sandbox, *, items: str, duplicates: int, lost: int, extra: str = ""
) -> str:
    """Print (and return) one line of figures for the test output."""
    by_provider = {p: sum(c.values()) for p, c in sandbox.stats.faults_by_provider.items()}
    line = (
        f"\nchaos[{pipeline}]: {items}; {sum(sandbox.stats.requests.values())} provider calls, "
        f"faults injected {dict(sandbox.stats.faults)} by provider {by_provider}; "
        f"duplicates {duplicates}, lost {lost}{extra}"
    )
    print(line)
    return line
