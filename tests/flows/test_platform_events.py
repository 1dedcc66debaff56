"""platform-events: the shop platform's message channel over HTTP, at least once, any order."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.clients.taobao import TaobaoClient
from aftercare.rules.platform_events import Reread, reread_of
from aftercare.settings import get_settings
from flows.platform_events import platform_events
from flows.unpaid_reminders import unpaid_order_reminders
from models import Order, OutboxMessage, PlatformMessage, Shop
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
PERMIT_AT = ANCHOR - timedelta(hours=12)


@pytest.fixture
def events_only(settings, monkeypatch):
    """Trades arrive by the platform's messages only: the increment poll is off."""
    monkeypatch.setenv("AFTERCARE_EVENTS__ENABLED", "true")
    monkeypatch.setenv("AFTERCARE_SYNC__POLL_TRADES", "false")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def stored(url) -> list[PlatformMessage]:
    with session_scope(url) as session:
        return list(session.exec(select(PlatformMessage)))


def orders(url) -> dict[int, str]:
    with session_scope(url) as session:
        return {int(o.tid): o.status for o in session.exec(select(Order))}


def named_trades(sandbox, messages) -> set[int]:
    return {int(m.tid) for m in messages if m.tid and reread_of(m.topic) is Reread.TRADE}


def permit_then_move_to(sandbox, when):
    """Start the shops' messages at PERMIT_AT, then let the world run until `when`."""
    sandbox.clock.set(PERMIT_AT)
    platform_events(as_of=PERMIT_AT)
    sandbox.clock.set(when)


def test_trades_arrive_by_messages_alone_and_the_first_reminder_follows(events_only, sandbox):
    url = events_only.database_url
    permit_then_move_to(sandbox, ANCHOR)
    figures = platform_events(as_of=ANCHOR)
    messages = stored(url)
    assert figures["received"] == len(messages) > 0
    assert sandbox.taobao.channel.unconfirmed() == 0, "every stored message was confirmed"
    assert all(m.applied_at and m.outcome for m in messages), "each message says what it did"
    # Every trade a message named is stored as the platform has it now, and nothing else:
    # the increment poll never ran.
    known = orders(url)
    assert set(known) == named_trades(sandbox, messages)
    for tid, status in known.items():
        assert status == sandbox.world.trade_at(tid, ANCHOR).status
    assert "WAIT_BUYER_PAY" in known.values()

    # The reminders pipeline works from what the messages brought in.
    unpaid_order_reminders(as_of=ANCHOR + timedelta(hours=1))
    with session_scope(url) as session:
        reminded = {
            int(tid)
            for tid in session.exec(
                select(Order.tid)
                .join(OutboxMessage, OutboxMessage.order_id == Order.id)
                .where(OutboxMessage.purpose.like("unpaid_%"))  # type: ignore[attr-defined]
            )
        }
    assert reminded and reminded <= {t for t, s in known.items() if s == "WAIT_BUYER_PAY"}


def test_repeated_and_shuffled_messages_are_stored_once_and_never_move_a_trade_back(
    events_only, sandbox
):
    channel = sandbox.taobao.channel
    channel.duplicate_rate, channel.shuffle = 0.5, True
    url = events_only.database_url
    permit_then_move_to(sandbox, ANCHOR + timedelta(hours=6))
    first = platform_events(as_of=ANCHOR + timedelta(hours=6))
    assert first["repeated"] > 0, "the channel repeated some messages"
    messages = stored(url)
    assert len({m.message_id for m in messages}) == len(messages) == first["new"]
    later = ANCHOR + timedelta(hours=24)
    sandbox.clock.set(later)
    platform_events(as_of=later)
    # A trade created, then paid or closed, then finished: whatever order its messages came
    # in, the stored state is the platform's current one (each message only triggers a re-read).
    for tid, status in orders(url).items():
        assert status == sandbox.world.trade_at(tid, later).status
    topics = Counter(m.topic for m in stored(url))
    assert topics["taobao_trade_TradeCreate"] and topics["taobao_trade_TradeClose"]


def test_messages_taken_but_never_confirmed_come_again_and_are_applied_once(events_only, sandbox):
    url = events_only.database_url
    permit_then_move_to(sandbox, ANCHOR)
    # A consumer that dies after taking a batch: nothing stored, nothing confirmed.
    lost = TaobaoClient.from_settings(events_only).consume_messages(200)
    assert lost.messages
    assert platform_events(as_of=ANCHOR)["received"] == 0, "taken messages wait out the timeout"
    sandbox.clock.set(ANCHOR + timedelta(minutes=2))  # past the redelivery timeout
    again = platform_events(as_of=ANCHOR + timedelta(minutes=2))
    kept = {m.message_id for m in stored(url)}
    assert again["received"] == again["new"] == len(kept)  # each stored once
    assert {m.id for m in lost.messages} <= kept, "nothing taken by the dead consumer is lost"
    assert sandbox.taobao.channel.unconfirmed() == 0 and sandbox.taobao.channel.redelivered


def test_a_message_about_a_shop_we_do_not_serve_is_kept_with_its_reason(events_only, sandbox):
    url = events_only.database_url
    with session_scope(url) as session:
        mumu = session.exec(select(Shop).where(Shop.code == "mumu")).one()
        mumu.seller_nick = "另一个店"  # the platform's nick no longer matches ours
        session.add(mumu)
    permit_then_move_to(sandbox, ANCHOR)
    platform_events(as_of=ANCHOR)
    unmatched = [m for m in stored(url) if m.shop_id is None]
    assert unmatched
    assert all(m.outcome == "the message names no shop we serve" for m in unmatched)


def test_a_new_unpaid_order_gets_a_reminders_run_at_its_due_minute(events_only, sandbox):
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    # The server is the session's: another module may have served the pipelines already.
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name("unpaid-order-reminders/scheduled")
            ours = False
        except ObjectNotFound:
            ours = True
    deployment_id = unpaid_order_reminders.to_deployment(name="scheduled").apply()
    try:
        _runs_asked_at_due_minutes(sandbox, deployment_id)
    finally:
        if ours:  # later tests must not meet a deployment they did not make
            with get_client(sync_client=True) as client:
                client.delete_deployment(deployment_id)


def _runs_asked_at_due_minutes(sandbox, deployment_id):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterIdempotencyKey,
    )

    placed = sorted(
        f.created
        for f in sandbox.world.fates.values()
        if PERMIT_AT < f.created < ANCHOR - timedelta(minutes=30)
    )
    assert placed
    now = placed[-1] + timedelta(minutes=1)  # its first reminder falls due in the next minutes
    permit_then_move_to(sandbox, now)
    figures = platform_events(as_of=now)
    platform_events(as_of=now)  # a second run asks for nothing new
    assert figures["reminder_runs_scheduled"] >= 1
    # The minutes this test's orders fall due (other tests' runs are at other times).
    minutes = [now + timedelta(minutes=m) for m in range(1, 31)]
    keys = [f"reminders-due-{m:%Y%m%d%H%M}" for m in minutes]
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(idempotency_key=FlowRunFilterIdempotencyKey(any_=keys)),
        )
    asked = [r.idempotency_key for r in runs]
    assert len(asked) == len(set(asked)) == figures["reminder_runs_scheduled"]
    for run in runs:
        assert run.expected_start_time > now and run.expected_start_time.second == 0
