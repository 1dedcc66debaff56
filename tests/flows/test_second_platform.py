"""A shop on Pinduoduo beside the Taobao shops: every pipeline runs unchanged for it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.clients.errors import AuthenticationError
from aftercare.clients.pinduoduo import PinduoduoClient
from aftercare.settings import get_settings
from deployments.sandbox_world import register_sandbox_shops
from flows.bad_review_followups import bad_review_followups
from flows.care_messages import care_messages
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.platform_events import platform_events
from flows.unpaid_reminders import unpaid_order_reminders
from models import Order, OutboxMessage, Shipment, Shop
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def sandbox() -> Iterator[object]:
    """The sandbox with its Pinduoduo shop selling too (the Taobao shops as always)."""
    from sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(
        seed=7, orders_per_shop=60, anchor=ANCHOR, clock_tick=False, pinduoduo_orders_per_shop=40
    )
    with Sandbox(config) as running:
        running.clock.set(ANCHOR)
        yield running


@pytest.fixture
def both_platforms(settings):
    register_sandbox_shops(settings.database_url, ("taobao", "pinduoduo"))
    return settings


def of_shop(url, model, code: str) -> list:
    with session_scope(url) as session:
        return list(
            session.exec(
                select(model).join(Shop, Shop.id == model.shop_id).where(Shop.code == code)
            )
        )


def test_a_pinduoduo_shop_is_synced_tracked_and_texted_like_any_other(both_platforms, sandbox):
    url = both_platforms.database_url
    logistics_check(as_of=ANCHOR)
    orders = {o.tid: o for o in of_shop(url, Order, "guoyuan")}
    world = {t.tid: t for t in sandbox.world.trades_of("guoyuan") if t.pay_time}
    assert orders and len(orders) == len(world)
    for tid, order in orders.items():
        trade = world[int(tid.partition("-")[2])]
        # Read in Taobao's words, the platform's own kept beside them.
        assert order.status == trade.status
        assert order.raw_status.startswith("order_status=") and "refund_status=" in order.raw_status
        assert order.receiver_phone == trade.buyer.phone and not order.phone_masked
    parcels = of_shop(url, Shipment, "guoyuan")
    checked = [p for p in parcels if p.last_checked_at]
    assert checked and sum(p.event_count for p in checked) > 0, "tracked like any parcel"

    care_messages(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)
    sent = [m for m in of_shop(url, OutboxMessage, "guoyuan") if m.status == "sent"]
    assert sent, "its buyers are told of their parcels"
    records = Counter(r.out_id for r in sandbox.sms.sent)
    assert all(records[m.out_id] == 1 for m in sent)
    assert {r.sign_name for r in sandbox.sms.sent if r.out_id in {m.out_id for m in sent}} == {
        "果园鲜生"
    }


def test_the_other_pipelines_run_for_it_without_a_special_case(
    both_platforms, sandbox, monkeypatch
):
    url = both_platforms.database_url
    monkeypatch.setenv("AFTERCARE_EVENTS__ENABLED", "true")
    get_settings.cache_clear()
    reminders = unpaid_order_reminders(as_of=ANCHOR)  # Pinduoduo lists paid orders only
    assert reminders is not None
    assert not [m for m in of_shop(url, OutboxMessage, "guoyuan") if m.purpose.startswith("unpaid")]
    bad_review_followups(as_of=ANCHOR)  # no reviews through its API: nothing, and no failure
    # The message channel is Taobao's: its three shops are started on it, not this one.
    assert platform_events(as_of=ANCHOR)["shops_permitted"] == 3
    # A day's window is read 30 minutes a call, and nothing is missed at the slices' edges.
    client = PinduoduoClient.from_settings(get_settings())
    start = ANCHOR - timedelta(days=1)
    token = get_settings().pinduoduo_tokens["guoyuan"].get_secret_value()
    read = [t.tid for page in client.iter_modified_trades(token, start, ANCHOR, page_size=10)
            for t in page.trades]  # fmt: skip
    expected = sandbox.world.modified_between("guoyuan", start, ANCHOR, not_after=ANCHOR)
    assert sorted(read) == sorted({f"{t.created:%y%m%d}-{t.tid}" for t in expected if t.pay_time})


def test_a_wrong_secret_is_refused_naming_the_setting(both_platforms, monkeypatch):
    monkeypatch.setenv("AFTERCARE_PINDUODUO_CLIENT_SECRET", "not-the-secret")
    get_settings.cache_clear()
    client = PinduoduoClient.from_settings(get_settings())
    token = get_settings().pinduoduo_tokens["guoyuan"].get_secret_value()
    with pytest.raises(AuthenticationError) as raised:
        client.trade(token, "261120-1")
    assert "AFTERCARE_PINDUODUO_CLIENT_SECRET" in str(raised.value)
    assert "not-the-secret" not in str(raised.value)
