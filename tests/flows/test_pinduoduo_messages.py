"""Pinduoduo's message service (PMC over WebSocket) feeding the pipelines, polling off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlmodel import select

from aftercare.clients.errors import AuthenticationError
from aftercare.settings import get_settings
from deployments.message_stream import MessageConsumer
from deployments.sandbox_world import register_sandbox_shops
from flows.platform_events import platform_events
from models import Order, PlatformMessage, Refund, Shop
from models.db import session_scope
from tests.conftest import ANCHOR
from tests.flows.test_message_stream import drain

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
# Within the sandbox channel's look-back (a day): what changed before is for the polls.
PERMIT_AT = ANCHOR - timedelta(hours=22)


@pytest.fixture
def sandbox() -> Iterator[object]:
    """The sandbox with its Pinduoduo shop selling, and buyers asking for refunds."""
    from sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(
        seed=7, orders_per_shop=20, anchor=ANCHOR, clock_tick=False,
        pinduoduo_orders_per_shop=60, refund_rate=0.3,
    )  # fmt: skip
    with Sandbox(config) as running:
        running.clock.set(ANCHOR)
        yield running


@pytest.fixture
def pushed_only(settings, monkeypatch):
    """Both platforms' shops; trades arrive by pushed messages only (the poll is off)."""
    register_sandbox_shops(settings.database_url, ("taobao", "pinduoduo"))
    monkeypatch.setenv("AFTERCARE_EVENTS__ENABLED", "true")
    monkeypatch.setenv("AFTERCARE_EVENTS__TRANSPORT", "stream")
    monkeypatch.setenv("AFTERCARE_EVENTS__STREAM_WAIT_SECONDS", "0.3")
    monkeypatch.setenv("AFTERCARE_SYNC__POLL_TRADES", "false")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def consumer(settings, asked: list[int] | None = None) -> MessageConsumer:
    return MessageConsumer(
        settings, platform="pinduoduo", emit=(asked if asked is not None else []).append
    )


def guoyuan_messages(url) -> list[PlatformMessage]:
    with session_scope(url) as session:
        return list(
            session.exec(
                select(PlatformMessage)
                .join(Shop, Shop.id == PlatformMessage.shop_id)
                .where(Shop.code == "guoyuan")
            )
        )


def test_a_pinduoduo_shop_runs_end_to_end_on_pushed_messages_alone(pushed_only, sandbox):
    url = pushed_only.database_url
    sandbox.clock.set(PERMIT_AT)
    assert platform_events(as_of=PERMIT_AT)["shops_permitted"] == 4  # three on TMC, one on PMC
    sandbox.clock.set(ANCHOR)
    asked: list[int] = []
    worker = consumer(pushed_only, asked)
    drain(worker)
    messages = guoyuan_messages(url)
    assert messages and worker.counts["new"] == len(messages) and asked == [len(messages)]
    assert sandbox.pinduoduo.channel.unconfirmed() == 0, "every stored message was acknowledged"
    topics = {m.topic for m in messages}
    assert any(t.startswith("pdd_trade_") for t in topics)
    assert any(t.startswith("pdd_refund_") for t in topics)

    platform_events(as_of=ANCHOR)
    assert all(m.applied_at for m in guoyuan_messages(url))
    with session_scope(url) as session:
        orders = {
            o.tid: o
            for o in session.exec(
                select(Order).join(Shop, Shop.id == Order.shop_id).where(Shop.code == "guoyuan")
            )
        }
        refunds = session.exec(
            select(Refund).join(Shop, Shop.id == Refund.shop_id).where(Shop.code == "guoyuan")
        ).all()
    changed = {
        f"{t.created:%y%m%d}-{t.tid}": t
        for _, t in sandbox.world.changes_between("guoyuan", PERMIT_AT, ANCHOR)
        if t.pay_time is not None
    }
    assert changed and set(changed) <= set(orders), "every order that changed came in"
    for sn in changed:
        trade = sandbox.world.trade_at(int(sn.partition("-")[2]), ANCHOR)
        assert orders[sn].status == trade.status
    desk = {
        str(r.refund_id): r.at(ANCHOR)[1]
        for r in sandbox.taobao.refunds.refunds.values()
        if r.trade.shop == "guoyuan" and any(PERMIT_AT < w <= ANCHOR for w, _ in r.steps)
    }
    assert desk and {r.refund_id: r.status for r in refunds if r.refund_id in desk} == desk


def test_a_killed_consumer_loses_nothing_and_repeats_keep_each_message_once(pushed_only, sandbox):
    url = pushed_only.database_url
    channel = sandbox.pinduoduo.channel
    channel.duplicate_rate, channel.shuffle = 0.3, True
    sandbox.clock.set(PERMIT_AT)
    platform_events(as_of=PERMIT_AT)
    sandbox.clock.set(ANCHOR)
    killed = consumer(pushed_only)
    taken = killed.take()  # stored and committed ...
    killed.stream.close()  # ... and the process dies before acknowledging
    assert taken.messages and channel.unconfirmed() > 0
    sandbox.clock.set(ANCHOR + timedelta(minutes=2))  # past the redelivery timeout
    worker = consumer(pushed_only)
    drain(worker)
    kept = guoyuan_messages(url)
    assert len(kept) == len({m.message_id for m in kept})
    assert {m.id for m in taken.messages} <= {m.message_id for m in kept}
    assert worker.counts["repeated"] > 0, "the ones stored before the kill came again"
    assert channel.unconfirmed() == 0


def test_a_dropping_service_is_reconnected_and_nothing_is_lost(pushed_only, sandbox):
    sandbox.clock.set(PERMIT_AT)
    platform_events(as_of=PERMIT_AT)
    sandbox.clock.set(ANCHOR)
    sandbox.pmc_stream.drop_rate = 0.05
    worker = consumer(pushed_only)
    for minute in range(1, 40):
        try:
            drain(worker)
        except Exception:
            worker.stream.close()
        if sandbox.pinduoduo.channel.unconfirmed() == 0:
            break
        sandbox.clock.set(ANCHOR + timedelta(minutes=2 * minute))  # what was cut off is due again
    assert sandbox.pmc_stream.dropped > 0 and worker.counts["connected"] > 1
    assert sandbox.pinduoduo.channel.unconfirmed() == 0, "every message got through in the end"


def test_a_wrong_secret_is_refused_at_the_handshake_naming_the_setting(pushed_only, sandbox):
    wrong = pushed_only.model_copy(update={"pinduoduo_client_secret": SecretStr("wrong")})
    worker = consumer(wrong)
    with pytest.raises(AuthenticationError) as raised:
        worker.step()
    assert "AFTERCARE_PINDUODUO_CLIENT_SECRET" in str(raised.value)
    assert sandbox.pmc_stream.refused == 1
