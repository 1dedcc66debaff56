"""Model-based test: random interleavings of queueing, opt-outs in every format, clock jumps
across 21:00, 22:00 and midnight, replays of past days (by the scheduler and by operators'
recovery flows), resends of failures, lost answers, dropped connections and dead dispatchers;
after every step no message went twice, none after an opt-out, none outside its window, and
every message not sent says why."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from aftercare.store import outbox
from flows.dispatch_messages import dispatch_messages
from flows.replay_pipeline import replay_pipeline
from flows.resend_failed_messages import resend_failed_messages
from models import OptOut, OutboxMessage, Shop
from models.db import session_scope
from sandbox import FaultConfig
from tests.flows.stateful_support import fresh_example

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONES = [f"139{n:08d}" for n in range(1, 6)]
WIDE = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")
FORMATS = {
    "plain": lambda p: p,
    "+86 spaced": lambda p: f"+86 {p[:3]} {p[3:7]} {p[7:]}",
    "86 dashed": lambda p: f"86-{p[:3]}-{p[3:7]}-{p[7:]}",
    "full-width": lambda p: p.translate(WIDE),
    "padded": lambda p: f"  {p}\u200b ",
}
OPT_OUT_WORDS = ["TD", "T", "Ｔ", "ｔｄ", "回T退订"]
# Moments the clock jumps to: either side of the marketing close, the send window's close,
# midnight and the morning opening (local time).
EDGES = [time(8, 59), time(9, 0), time(20, 59), time(21, 0), time(21, 59), time(22, 0),
         time(23, 59), time(0, 0), time(10, 0)]  # fmt: skip
FAULTS = {
    "none": None,
    "answer lost after sending": FaultConfig(process_then_fail_rate=0.5, timeout_seconds=0.3),
    "connection dropped": FaultConfig(drop_rate=0.4),
    "busy": FaultConfig(busy_rate=0.4),
}


@dataclass
class World:
    """What the test function hands each machine: the sandbox and where the runs keep data."""

    sandbox: Any
    folder: Path
    monkeypatch: pytest.MonkeyPatch
    examples: Counter[str]


WORLD: World | None = None


class Promises(RuleBasedStateMachine):
    """The outbox, the dispatcher, the receiver and the sandbox driven in random order."""

    def __init__(self) -> None:
        super().__init__()
        assert WORLD is not None
        self.world = WORLD
        self.sandbox = WORLD.sandbox
        WORLD.examples["examples"] += 1
        self.url = fresh_example(
            self.sandbox, WORLD.folder, WORLD.monkeypatch, f"promises-{WORLD.examples['examples']}"
        )
        # Every opt-out comes from the rules, so the model knows when each buyer said stop.
        self.sandbox.opt_outs.rate = 0.0
        self.keys = itertools.count(1)
        self.opted_out_at: dict[str, datetime] = {}
        self.sent_before_opt_out: dict[str, int] = {}
        self.marketing: set[str] = set()

    def now(self) -> datetime:
        return self.sandbox.clock.now()

    @initialize()
    def every_buyer_has_messages_waiting(self) -> None:
        for phone in PHONES:
            self.queue("transactional", phone, 1)
            self.queue("marketing", phone, 1)

    @rule(
        kind=st.sampled_from(["transactional", "marketing"]),
        phone=st.sampled_from(PHONES),
        count=st.integers(1, 3),
    )
    def queue(self, kind: str, phone: str, count: int) -> None:
        """A pipeline queues messages for a buyer."""
        template = "care_new_product" if kind == "marketing" else "logistics_stalled_minor"
        with session_scope(self.url) as session:
            shop = session.exec(select(Shop).where(Shop.code == "sishi")).one()
            params: dict[str, object] = (
                {"shop": shop.name, "product": "羊毛围巾"}
                if kind == "marketing"
                else {"shop": shop.name, "courier": "圆通速递", "waybill": "YT1234567890123"}
            )
            rows = []
            for _ in range(count):
                key = f"model:{kind}:{next(self.keys)}"
                if kind == "marketing":
                    self.marketing.add(key)
                rows.append(
                    outbox.message_row(
                        key=key,
                        template=template,
                        params=params,
                        recipient=outbox.Recipient(shop.id or 0, None, None, phone),
                        now=self.now(),
                    )
                )
            outbox.enqueue(session=session, rows=rows)

    @rule(
        phone=st.sampled_from(PHONES),
        written=st.sampled_from(sorted(FORMATS)),
        word=st.sampled_from(OPT_OUT_WORDS),
    )
    def opt_out(self, phone: str, written: str, word: str) -> None:
        """A buyer replies T in some form, the number written some way by the gateway."""
        self.sandbox.reply(phone, word, written_as=FORMATS[written](phone))
        assert self.sandbox.deliver_pending(timeout=30)
        self.opted_out_at.setdefault(phone, self.now())
        # The clock stands still between steps: what was sent before is known by its place.
        self.sent_before_opt_out.setdefault(phone, len(self.sandbox.sms_sent))

    @rule(edge=st.sampled_from(EDGES), days=st.integers(0, 1))
    def jump(self, edge: time, days: int = 0) -> None:
        """The clock jumps to the next such moment (across 21:00, 22:00, midnight ...)."""
        local = self.now().astimezone(SHANGHAI)
        target = datetime.combine(local.date() + timedelta(days=days), edge, tzinfo=SHANGHAI)
        if target <= local:
            target += timedelta(days=1)
        self.sandbox.clock.set(target)

    @rule(minutes=st.sampled_from([1, 11, 31, 61]))
    def tick(self, minutes: int) -> None:
        """Time passes a little."""
        self.sandbox.clock.advance(timedelta(minutes=minutes))

    @rule(fault=st.sampled_from(sorted(FAULTS)))
    def provider(self, fault: str) -> None:
        """The SMS provider starts (or stops) misbehaving."""
        config = FAULTS[fault]
        if config is None:
            self.sandbox.faults.clear()
        else:
            self.sandbox.faults.set("sms", config)

    @rule(
        replay_hours=st.sampled_from([0, 0, 3, 30]),
        at=st.one_of(st.none(), st.sampled_from(EDGES)),
        late=st.sampled_from([0, 1, 29]),
    )
    def dispatch(self, replay_hours: int, at: time | None, late: int) -> None:
        """The dispatcher runs (at the next such moment, `late` minutes after it), now or as a
        replay of a past moment (a missed run)."""
        if at is not None:
            self.jump(at)
            self.sandbox.clock.advance(timedelta(minutes=late))
        dispatch_messages(as_of=self.now() - timedelta(hours=replay_hours))
        self.world.examples["dispatch runs"] += 1

    @rule(replay_hours=st.sampled_from([1, 20, 50]), dry_run=st.booleans())
    def operator_replays_dispatch(self, replay_hours: int, dry_run: bool) -> None:
        """An operator replays a missed dispatch run from the recovery flow."""
        as_of = self.now() - timedelta(hours=replay_hours)
        replay_pipeline(pipeline="dispatch-messages", as_of=as_of, dry_run=dry_run)
        self.world.examples["replays"] += 1

    @rule(days_back=st.sampled_from([1, 3]), dry_run=st.booleans())
    def operator_resends_failures(self, days_back: int, dry_run: bool) -> None:
        """An operator queues the last days' failed messages again."""
        resend_failed_messages(
            start=self.now() - timedelta(days=days_back),
            end=self.now(),
            dry_run=dry_run,
            as_of=self.now(),
        )
        self.world.examples["resends"] += 1

    @rule()
    def dead_dispatcher(self) -> None:
        """A dispatcher claims a batch and is killed before sending anything."""
        with session_scope(self.url) as session:
            outbox.claim_batch(
                session=session,
                now=self.now(),
                owner="killed",
                lease=timedelta(minutes=10),
                limit=2,
                world=self.now(),
            )

    def teardown(self) -> None:
        self.world.examples["texts"] += len(self.sandbox.sms_sent)
        self.world.examples["replies"] += len(self.sandbox.uplinks)
        self.sandbox.faults.clear()

    @invariant()
    def no_message_went_twice(self) -> None:
        twice = [k for k, n in Counter(s.out_id for s in self.sandbox.sms_sent).items() if n > 1]
        assert not twice, twice

    @invariant()
    def every_text_left_inside_its_window(self) -> None:
        for sms in self.sandbox.sms_sent:
            local = sms.sent_at.astimezone(SHANGHAI).time()
            close = time(21) if sms.out_id in self.marketing else time(22)
            assert time(9) <= local < close, (sms.out_id, local)

    @invariant()
    def no_marketing_after_an_opt_out(self) -> None:
        for position, sms in enumerate(self.sandbox.sms_sent):
            before = self.sent_before_opt_out.get(sms.phone)
            if sms.out_id in self.marketing and before is not None:
                assert position < before, (sms.out_id, sms.sent_at, self.opted_out_at[sms.phone])

    @invariant()
    def every_opt_out_is_stored_as_the_number(self) -> None:
        with session_scope(self.url) as session:
            stored = set(session.exec(select(OptOut.value)).all())
        assert stored == set(self.opted_out_at), (stored, set(self.opted_out_at))

    @invariant()
    def every_message_not_sent_says_why(self) -> None:
        with session_scope(self.url) as session:
            rows = session.exec(select(OutboxMessage)).all()
        for row in rows:
            if row.status in ("suppressed", "failed"):
                assert row.reason, row.idempotency_key
            if row.status == "sent":
                assert row.sent_at is not None


def test_no_interleaving_breaks_a_promise(settings, sandbox, receiver, tmp_path, monkeypatch):
    global WORLD
    sandbox.set_uplink_url(f"{receiver}/sms/uplink")
    WORLD = World(sandbox, tmp_path, monkeypatch, Counter())
    try:
        run_state_machine_as_test(
            Promises,
            settings=hypothesis_settings(
                max_examples=12,
                stateful_step_count=16,
                deadline=None,
                derandomize=True,  # the same interleavings on every machine and run
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
        figures = WORLD.examples
        print(f"stateful promises: {dict(figures)}")
        assert figures["texts"] > 0 and figures["dispatch runs"] > 0, "the runs did send"
    finally:
        WORLD = None
