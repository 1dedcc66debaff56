"""The platform's message stream (TMC over WebSocket) feeding the pipelines, polling off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.settings import get_settings
from deployments.message_stream import MessageConsumer
from flows.platform_events import platform_events
from flows.unpaid_reminders import unpaid_order_reminders
from models import Order, OutboxMessage, PlatformMessage
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
PERMIT_AT = ANCHOR - timedelta(hours=12)


@pytest.fixture
def stream_only(settings, monkeypatch):
    """Trades arrive by the pushed stream only: the increment poll is off."""
    monkeypatch.setenv("AFTERCARE_EVENTS__ENABLED", "true")
    monkeypatch.setenv("AFTERCARE_EVENTS__TRANSPORT", "stream")
    monkeypatch.setenv("AFTERCARE_EVENTS__STREAM_WAIT_SECONDS", "0.3")
    monkeypatch.setenv("AFTERCARE_SYNC__POLL_TRADES", "false")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def consumer(settings, asked: list[int]) -> MessageConsumer:
    return MessageConsumer(settings, emit=asked.append)


def drain(worker: MessageConsumer, rounds: int = 20) -> None:
    """Step until a round brings nothing (the stream has handed out all that is due)."""
    for _ in range(rounds):
        before = worker.counts["received"]
        worker.step()
        if worker.counts["received"] == before:
            return
    raise AssertionError("the stream never ran dry")


def stored(url) -> list[PlatformMessage]:
    with session_scope(url) as session:
        return list(session.exec(select(PlatformMessage)))


def test_a_shop_runs_end_to_end_on_pushed_messages_alone(stream_only, sandbox):
    url = stream_only.database_url
    sandbox.clock.set(PERMIT_AT)
    platform_events(as_of=PERMIT_AT)  # starts the shops' messages on the platform
    sandbox.clock.set(ANCHOR)
    asked: list[int] = []
    worker = consumer(stream_only, asked)
    drain(worker)
    messages = stored(url)
    assert messages and worker.counts["new"] == len(messages)
    assert sandbox.taobao.channel.unconfirmed() == 0, "every stored message was confirmed"
    assert asked == [len(messages)], "one platform-events run asked for, naming the new ones"

    figures = platform_events(as_of=ANCHOR)
    assert figures.get("stream_alive") == 1 and "received" not in figures, "no polling"
    with session_scope(url) as session:
        known = {int(o.tid): o.status for o in session.exec(select(Order))}
    assert known and all(m.applied_at for m in stored(url))
    for tid, status in known.items():
        assert status == sandbox.world.trade_at(tid, ANCHOR).status

    unpaid_order_reminders(as_of=ANCHOR + timedelta(hours=1))
    with session_scope(url) as session:
        reminders = session.exec(
            select(OutboxMessage.order_id).where(OutboxMessage.purpose.like("unpaid_%"))  # type: ignore[attr-defined]
        ).all()
    assert reminders and len(reminders) == len(set(reminders))


def test_a_consumer_killed_after_storing_loses_nothing_and_keeps_each_message_once(
    stream_only, sandbox
):
    url = stream_only.database_url
    sandbox.taobao.channel.duplicate_rate, sandbox.taobao.channel.shuffle = 0.3, True
    sandbox.clock.set(PERMIT_AT)
    platform_events(as_of=PERMIT_AT)
    sandbox.clock.set(ANCHOR)
    killed = consumer(stream_only, [])
    taken = killed.take()  # stored and committed ...
    killed.stream.close()  # ... and the process dies before confirming
    assert taken.messages and sandbox.taobao.channel.unconfirmed() > 0
    sandbox.clock.set(ANCHOR + timedelta(minutes=2))  # past the redelivery timeout
    worker = consumer(stream_only, [])
    drain(worker)
    kept = stored(url)
    assert len(kept) == len({m.message_id for m in kept})
    assert {m.id for m in taken.messages} <= {m.message_id for m in kept}
    assert worker.counts["repeated"] > 0, "the ones stored before the kill came again"
    assert sandbox.taobao.channel.unconfirmed() == 0


def test_a_dropping_channel_is_reconnected_and_nothing_is_lost(stream_only, sandbox):
    url = stream_only.database_url
    sandbox.clock.set(PERMIT_AT)
    platform_events(as_of=PERMIT_AT)
    sandbox.clock.set(ANCHOR)
    sandbox.tmc_stream.drop_rate = 0.05
    worker = consumer(stream_only, [])
    for minute in range(1, 30):
        drain(worker)  # a dropped connection ends a round; the next one reconnects
        if sandbox.taobao.channel.unconfirmed() == 0:
            break
        sandbox.clock.set(ANCHOR + timedelta(minutes=minute))
    assert sandbox.tmc_stream.dropped > 0 and worker.counts["connected"] > 1
    assert sandbox.taobao.channel.unconfirmed() == 0
    kept = stored(url)
    assert len(kept) == len({m.message_id for m in kept}) == worker.counts["new"]


def test_stored_messages_start_a_platform_events_run_through_the_automation(stream_only):
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from deployments.message_stream import emit_stored
    from deployments.setup import MESSAGES_ARRIVED, ensure_automations
    from flows.staff_alert import staff_alert

    events = platform_events.to_deployment(name="scheduled").apply()
    alerts = staff_alert.to_deployment(name="manual").apply()
    names = ensure_automations(alerts, {}, events)
    assert MESSAGES_ARRIVED in names
    deadline = time.monotonic() + 60
    runs: list = []
    while not runs and time.monotonic() < deadline:
        # The server loads a new automation within seconds; the consumer emits per batch.
        emit_stored(3)
        time.sleep(2)  # waiting for the Prefect server's automation, not for business time
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[events]))
            )
    assert runs, "the automation did not start platform-events"


def test_the_every_minute_run_polls_only_while_the_stream_is_quiet(stream_only, sandbox):
    sandbox.clock.set(PERMIT_AT)
    platform_events(as_of=PERMIT_AT)
    sandbox.clock.set(ANCHOR)
    consumer(stream_only, []).step()  # the consumer is pulling: it says so
    assert platform_events(as_of=ANCHOR).get("stream_alive") == 1
    later = ANCHOR + timedelta(minutes=stream_only.events.stream_quiet_minutes + 1)
    sandbox.clock.set(later)  # the consumer has said nothing since: poll as the fallback
    figures = platform_events(as_of=later)
    assert figures["polled_as_fallback"] == 1 and figures["received"] > 0
    assert sandbox.taobao.channel.unconfirmed() == 0
