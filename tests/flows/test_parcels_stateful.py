"""Model-based test: Kuaidi100 pushes delivered late, twice, out of order and lost, drained and
polled in random interleavings with the clock moving; after every step no parcel moved
backwards, none lost news it was given, every unreadable push kept its reason, and no buyer
got the same text twice."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from aftercare.clients.errors import MalformedResponse
from aftercare.clients.kuaidi100 import parse_push
from aftercare.settings import get_settings
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from models import Shipment, TrackingPush
from models.db import session_scope
from sandbox import FaultConfig
from tests.flows.stateful_support import fresh_example
from tests.flows.test_push_tracking import retry_late

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
PUSH_FAULTS = {
    "none": None,
    "old pushes come again": FaultConfig(stale_rate=0.6),
    "acknowledgements lost": FaultConfig(process_then_fail_rate=0.4),
    "posts dropped": FaultConfig(drop_rate=0.3),
}


@dataclass
class World:
    """What the test function hands each machine: the sandbox, receiver and a folder."""

    sandbox: Any
    receiver: str
    folder: Path
    monkeypatch: pytest.MonkeyPatch
    figures: Counter[str]


WORLD: World | None = None


class Parcels(RuleBasedStateMachine):
    """The pusher, the receiver, the drain and the poll driven in random order."""

    def __init__(self) -> None:
        super().__init__()
        assert WORLD is not None
        self.world = WORLD
        self.sandbox = WORLD.sandbox
        WORLD.figures["examples"] += 1
        self.url = fresh_example(
            self.sandbox, WORLD.folder, WORLD.monkeypatch, f"parcels-{WORLD.figures['examples']}"
        )
        # The furthest each parcel has been on record: (newest scan, scans, status).
        self.furthest: dict[str, tuple[datetime, int, str]] = {}
        self.late = itertools.count(1)

    def now(self) -> datetime:
        return self.sandbox.clock.now()

    @initialize()
    def parcels_are_subscribed(self) -> None:
        logistics_check(as_of=self.now())

    @rule(hours=st.sampled_from([1, 5, 26, 73]), fault=st.sampled_from(sorted(PUSH_FAULTS)))
    def time_passes(self, hours: int, fault: str) -> None:
        """Couriers scan and Kuaidi100 pushes the news, misbehaving in one way or another."""
        config = PUSH_FAULTS[fault]
        if config is None:
            self.sandbox.faults.clear("kuaidi100_push")
        else:
            self.sandbox.faults.set("kuaidi100_push", config)
        self.sandbox.clock.advance(timedelta(hours=hours))
        assert self.sandbox.deliver_pushes(timeout=60)

    def overtaken(self) -> list[Any]:
        """Delivered pushes a later delivered push of the same waybill told more than."""
        delivered = [p for p in self.sandbox.pushes if p.delivered and not p.malformed]
        most: dict[str, int] = {}
        for push in delivered:
            most[push.waybill] = max(most.get(push.waybill, 0), push.scans)
        return [p for p in delivered if p.scans < most[p.waybill]]

    @precondition(lambda self: bool(self.overtaken()))
    @rule(data=st.data(), count=st.integers(1, 5), newer_applied=st.booleans())
    def old_pushes_come_late(self, data: st.DataObject, count: int, newer_applied: bool) -> None:
        """Pushes made earlier arrive after newer ones (already applied, or waiting beside)."""
        if newer_applied:
            self.drain()
        old = data.draw(st.lists(st.sampled_from(self.overtaken()), min_size=1, max_size=count))
        for push in old:
            note = f"迟到 {next(self.late)}"  # each late copy reads differently: none deduped
            assert retry_late(self.world.receiver, get_settings(), push, note=note) == 200
        self.world.figures["late pushes"] += len(old)

    @rule(minutes=st.sampled_from([10, 40]))
    def a_poll_answers_late(self, minutes: int) -> None:
        """Time passes without pushes; the parcels due a poll are asked again."""
        self.sandbox.clock.advance(timedelta(minutes=minutes))
        logistics_check(as_of=self.now())

    @rule()
    def drain(self) -> None:
        """The pipeline runs: drains the pushes, polls what is due, queues messages."""
        logistics_check(as_of=self.now())
        self.world.figures["drains"] += 1
        self.nothing_given_was_lost()

    @rule()
    def dispatch(self) -> None:
        """The dispatcher sends what the parcels' cases queued."""
        dispatch_messages(as_of=self.now())

    def shipments(self) -> dict[str, Shipment]:
        with session_scope(self.url) as session:
            return {s.waybill: s for s in session.exec(select(Shipment))}

    def nothing_given_was_lost(self) -> None:
        """After a drain, every parcel knows at least as much as its best push told."""
        best: dict[str, int] = {}
        for push in self.sandbox.pushes:
            if push.delivered and not push.malformed and push.status != "abort":
                best[push.waybill] = max(best.get(push.waybill, 0), push.scans)
        rows = self.shipments()
        short = {w: (rows[w].event_count, n) for w, n in best.items() if rows[w].event_count < n}
        assert not short, short
        with session_scope(self.url) as session:
            waiting = session.exec(
                select(TrackingPush).where(TrackingPush.processed_at.is_(None))  # type: ignore[union-attr]
            ).all()
            stored = session.exec(select(TrackingPush)).all()
        assert not waiting, f"{len(waiting)} pushes left undrained"
        for push in stored:  # every unreadable push keeps the reason it was not applied
            try:
                parse_push(push.param)
            except MalformedResponse:
                assert push.error, push.id
                self.world.figures["unreadable pushes recorded"] += 1

    @invariant()
    def no_parcel_moves_backwards(self) -> None:
        for waybill, row in self.shipments().items():
            if row.last_event_at is None:
                assert waybill not in self.furthest, waybill
                continue
            now = (row.last_event_at, row.event_count, row.status)
            before = self.furthest.get(waybill)
            if before is not None:
                assert now[0] >= before[0] and now[1] >= before[1], (waybill, before, now)
                if now[:2] == before[:2]:
                    assert now[2] == before[2], ("status changed on old news", waybill, before, now)
            self.furthest[waybill] = now

    @invariant()
    def no_text_went_twice(self) -> None:
        twice = [k for k, n in Counter(s.out_id for s in self.sandbox.sms_sent).items() if n > 1]
        assert not twice, twice

    def teardown(self) -> None:
        # Every example ends as a day does: the pushes delivered, the pipeline run once more.
        self.sandbox.faults.clear("kuaidi100_push")
        assert self.sandbox.deliver_pushes(timeout=60)
        self.drain()
        self.no_parcel_moves_backwards()
        self.world.figures["pushes"] += len(self.sandbox.pushes)
        self.world.figures["texts"] += len(self.sandbox.sms_sent)
        self.world.figures["parcels"] += len(self.furthest)
        self.sandbox.faults.clear()


def test_no_order_of_pushes_moves_a_parcel_backwards(
    settings, sandbox, receiver, tmp_path, monkeypatch
):
    global WORLD
    monkeypatch.setenv("AFTERCARE_LOGISTICS__SUBSCRIBE", "true")
    monkeypatch.setenv("AFTERCARE_KUAIDI100_CALLBACK_URL", f"{receiver}/kuaidi100/push")
    backoff = sandbox.pusher.backoff
    sandbox.pusher.backoff = (0.01, 0.02, 0.05)  # real seconds between retries of a push
    WORLD = World(sandbox, receiver, tmp_path, monkeypatch, Counter())
    try:
        run_state_machine_as_test(
            Parcels,
            settings=hypothesis_settings(
                max_examples=6,
                stateful_step_count=14,
                deadline=None,
                derandomize=True,  # the same interleavings on every machine and run
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
        figures = WORLD.figures
        print(f"stateful parcels: {dict(figures)}")
        assert figures["drains"] > 0 and figures["pushes"] > 0, "the parcels were pushed"
    finally:
        WORLD = None
        sandbox.pusher.backoff = backoff
