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
from flows.refunds_and_returns import refunds_and_returns
from flows.unpaid_reminders import unpaid_order_reminders
from models import Order, OutboxMessage, Refund, RefundAction, Shipment, Shop, StaffAlert
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
        seed=7, orders_per_shop=60, anchor=ANCHOR, clock_tick=False,
        pinduoduo_orders_per_shop=40, refund_rate=0.3,
    )  # fmt: skip
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
    # Each shop is started on its platform's message channel: three on TMC, this one on PMC.
    assert platform_events(as_of=ANCHOR)["shops_permitted"] == 4
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


def test_its_after_sales_are_kept_current_and_every_timer_is_warned_of_in_time(
    both_platforms, sandbox, monkeypatch
):
    from tests.flows.test_refunds_and_returns import ALL_KINDS_AUTOMATIC

    # Answers are automated for every kind, but on Pinduoduo they stay the agents' for now.
    monkeypatch.setenv("AFTERCARE_REFUNDS__AUTO", ALL_KINDS_AUTOMATIC)
    get_settings.cache_clear()
    url = both_platforms.database_url
    desk = [r for r in sandbox.taobao.refunds.refunds.values() if r.trade.shop == "guoyuan"]
    end = ANCHOR + timedelta(days=7)
    steps = {ANCHOR + timedelta(hours=12 * n) for n in range(15)}
    for refund in desk:
        for deadline in refund.deadlines.values():
            steps |= {deadline - timedelta(hours=11), deadline - timedelta(hours=1)}
    for moment in sorted(m for m in steps if ANCHOR <= m <= end):
        sandbox.clock.set(moment)
        refunds_and_returns(as_of=moment, shops=["guoyuan"])
    again = refunds_and_returns(as_of=end, shops=["guoyuan"])
    assert again["refunds_new"] == again["refunds_changed"] == again["alerts_queued"] == 0
    assert again["refunds_rejected"] == 0

    stored = {r.refund_id: r for r in of_shop(url, Refund, "guoyuan")}
    visible = {str(r.refund_id): r for r in desk if r.at(end)}
    assert len(visible) >= 5 and set(stored) == set(visible)
    for refund_id, refund in visible.items():
        modified, status = refund.at(end)
        row = stored[refund_id]
        # Read in Taobao's words, the platform's code kept beside them, versioned by time.
        assert row.status == status, refund_id
        assert row.raw_status.startswith("after_sales_status=")
        assert row.version == int(modified.timestamp()) * 1000
        assert row.tid.endswith(f"-{refund.trade.tid}") and row.order_id is not None
    assert {r.status for r in stored.values()} >= {"WAIT_SELLER_CONFIRM_GOODS", "CLOSED"}

    # Each deadline of the week got both warnings before it (the platform's own expire_time).
    with session_scope(url) as session:
        alerts = {a.dedupe_key: a for a in session.exec(select(StaffAlert))}
        answered = session.exec(select(RefundAction)).all()
    warned = 0
    for refund in desk:
        for status, deadline in refund.deadlines.items():
            in_turn = refund.at(deadline - timedelta(hours=1))
            if not (ANCHOR + timedelta(hours=12) < deadline <= end) or in_turn[1] != status:
                continue
            for margin in ("12h", "2h"):
                key = f"refund:guoyuan:{refund.refund_id}:{status}:{margin}"
                assert key in alerts and alerts[key].created_at < deadline, key
            warned += 1
    assert warned >= 2
    assert not answered and not any(r.actions for r in desk), "left to the agents"


def test_its_after_sales_window_and_ids_are_checked_as_the_platform_does(both_platforms, sandbox):
    from aftercare.clients.errors import RequestRejected

    client = PinduoduoClient.from_settings(get_settings())
    token = get_settings().pinduoduo_tokens["guoyuan"].get_secret_value()
    with pytest.raises(RequestRejected, match="30"):
        client.refunds_page(token, ANCHOR - timedelta(minutes=31), ANCHOR, page_no=1, page_size=10)
    # A Taobao shop's refund is not this shop's after-sale.
    theirs = next(r for r in sandbox.taobao.refunds.refunds.values() if r.trade.shop != "guoyuan")
    with pytest.raises(RequestRejected):
        client.call(
            "pdd.refund.information.get",
            token,
            {"after_sales_id": str(theirs.refund_id), "order_sn": f"x-{theirs.trade.tid}"},
        )
    # Paged one by one over three days, every after-sale is read once.
    start = ANCHOR - timedelta(days=3)
    read = [r.refund_id for p in client.iter_refunds(token, start, ANCHOR, page_size=1)
            for r in p.refunds]  # fmt: skip
    ours = [r for r in sandbox.taobao.refunds.refunds.values() if r.trade.shop == "guoyuan"]
    expected = {str(r.refund_id) for r in ours if (s := r.at(ANCHOR)) and start <= s[0] <= ANCHOR}
    assert expected and sorted(read) == sorted(expected)
