"""The clients over real HTTP against the sandbox, which checks signatures like the providers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftercare.clients.errors import AuthenticationError, ProviderUnavailable, RateLimited
from aftercare.clients.http import HttpCore
from aftercare.clients.kuaidi100 import Kuaidi100Client, PhoneCheckFailed, WaybillLocked
from aftercare.clients.sms import InvalidRecipient, SmsClient
from aftercare.clients.taobao import TaobaoClient, TradeNotFound
from aftercare.clock import CHINA
from aftercare.settings import RetrySettings
from sandbox import CREDENTIALS, FaultConfig
from tests.conftest import ANCHOR

FAST = RetrySettings(backoff_base_seconds=0.01, backoff_cap_seconds=0.05, read_timeout_seconds=1)


def courier(sandbox, key=CREDENTIALS["kuaidi100"]["key"], retry=FAST):
    return Kuaidi100Client(
        base_url=sandbox.url("kuaidi100"),
        customer=CREDENTIALS["kuaidi100"]["customer"],
        key=key,
        core=HttpCore("kuaidi100", retry=retry),
    )


def shop_api(sandbox, secret=CREDENTIALS["taobao"]["app_secret"], method="md5"):
    return TaobaoClient(
        gateway_url=sandbox.url("taobao"),
        app_key=CREDENTIALS["taobao"]["app_key"],
        app_secret=secret,
        sign_method=method,
        core=HttpCore("taobao", retry=FAST),
    )


def sms_api(sandbox, secret=CREDENTIALS["sms"]["access_key_secret"]):
    return SmsClient(
        endpoint=sandbox.url("sms"),
        access_key_id=CREDENTIALS["sms"]["access_key_id"],
        access_key_secret=secret,
        region="cn-hangzhou",
        core=HttpCore("sms", retry=FAST),
    )


def parcel(sandbox, scenario, couriers=("yuantong", "yunda", "ems")):
    return next(
        p for p in sandbox.world.shipments.values() if p.scenario == scenario and p.com in couriers
    )


def test_query_returns_the_history_up_to_the_sandbox_clock(sandbox):
    delivered = parcel(sandbox, "delivered")
    result = courier(sandbox).query(delivered.com, delivered.waybill)
    assert result.state == 3 and result.signed
    assert len(result.events) == len(delivered.visible(ANCHOR))
    assert result.events[-1].occurred_at <= ANCHOR


def test_query_is_locked_for_30_minutes_per_waybill(sandbox):
    moving = parcel(sandbox, "in_transit")
    client = courier(sandbox)
    client.query(moving.com, moving.waybill)
    with pytest.raises(WaybillLocked):
        client.query(moving.com, moving.waybill)
    sandbox.clock.advance(timedelta(minutes=31))
    assert client.query(moving.com, moving.waybill).events


def test_shunfeng_needs_a_matching_phone(sandbox):
    sf = parcel(sandbox, "delivered", couriers=("shunfeng",))
    with pytest.raises(PhoneCheckFailed):
        courier(sandbox).query(sf.com, sf.waybill)
    sandbox.clock.advance(timedelta(minutes=31))
    result = courier(sandbox).query(sf.com, sf.waybill, phone=sf.receiver_phone[-4:])
    assert result.signed


def test_wrong_courier_key_is_an_authentication_error(sandbox):
    moving = parcel(sandbox, "in_transit")
    with pytest.raises(AuthenticationError):
        courier(sandbox, key="wrong-key").query(moving.com, moving.waybill)


def test_subscription_and_duplicate(sandbox):
    moving = parcel(sandbox, "in_transit")
    client = courier(sandbox)
    assert client.subscribe(
        moving.com, moving.waybill, callback_url="http://127.0.0.1:1/push", salt="s"
    )
    assert not client.subscribe(
        moving.com, moving.waybill, callback_url="http://127.0.0.1:1/push", salt="s"
    )
    assert len(sandbox.subscriptions) == 1


def test_server_errors_are_retried_and_then_surface_typed(sandbox):
    moving = parcel(sandbox, "in_transit")
    sandbox.faults.set("kuaidi100", FaultConfig(error_rate=1.0))
    with pytest.raises(ProviderUnavailable):
        courier(sandbox, retry=FAST.model_copy(update={"max_attempts": 3})).query(
            moving.com, moving.waybill
        )
    assert sandbox.stats.requests["kuaidi100"] == 3


def test_429_burst_is_waited_out_with_retry_after(sandbox):
    first, second = [p for p in sandbox.world.shipments.values() if p.scenario == "in_transit"][:2]
    # One request passes, then the next two are answered 429 with Retry-After: 1.
    sandbox.faults.set("kuaidi100", FaultConfig(burst_every=1, burst_length=2, retry_after=1))
    client = courier(sandbox)
    client.query(first.com, first.waybill, phone=first.receiver_phone)
    result = client.query(second.com, second.waybill, phone=second.receiver_phone)
    assert result.events and sandbox.stats.faults["burst"] == 2


@pytest.mark.parametrize("method", ["md5", "hmac"])
def test_trade_sync_pages_backwards_and_sees_every_trade_of_the_window(sandbox, method):
    client = shop_api(sandbox, method=method)
    session = CREDENTIALS["taobao"]["sessions"]["sishi"]
    start, end = ANCHOR - timedelta(days=1), ANCHOR
    pages = list(client.iter_modified_trades(session, start, end, page_size=40))
    seen = {t.tid for page in pages for t in page.trades}
    expected = {
        str(t.tid)
        for t in sandbox.world.trades.values()
        if t.shop == "sishi" and start <= t.modified <= end
    }
    assert seen == expected and expected


def test_single_trade_get_and_unknown_trade(sandbox):
    trade = next(t for t in sandbox.world.trades.values() if t.shop == "xiaoya")
    session = CREDENTIALS["taobao"]["sessions"]["xiaoya"]
    record = shop_api(sandbox).trade(session, str(trade.tid))
    assert record.tid == str(trade.tid) and record.phone_masked
    with pytest.raises(TradeNotFound):
        shop_api(sandbox).trade(session, "1")


def test_wrong_top_secret_or_session_is_refused(sandbox):
    session = CREDENTIALS["taobao"]["sessions"]["sishi"]
    with pytest.raises(AuthenticationError):
        shop_api(sandbox, secret="wrong").trades_page(
            session, ANCHOR - timedelta(hours=1), ANCHOR, page_no=1, page_size=40
        )
    with pytest.raises(AuthenticationError):
        shop_api(sandbox).trades_page(
            "bad-session", ANCHOR - timedelta(hours=1), ANCHOR, page_no=1, page_size=40
        )


def test_app_call_limited_is_retried(sandbox):
    sandbox.faults.set("taobao", FaultConfig(busy_rate=0.5))
    session = CREDENTIALS["taobao"]["sessions"]["sishi"]
    page = shop_api(sandbox).trades_page(
        session, ANCHOR - timedelta(hours=6), ANCHOR, page_no=1, page_size=40
    )
    assert page.total_results is not None


def test_sms_send_and_look_up_by_out_id(sandbox):
    client = sms_api(sandbox)
    biz_id = client.send(
        phone="13912345678",
        sign_name="丝施品牌店",
        template_code="SMS_480100002",
        params={"shop": "丝施品牌店", "courier": "圆通速递", "waybill": "YT1"},
        out_id="logistics:test:1",
    )
    assert biz_id and sandbox.sms_sent[0].out_id == "logistics:test:1"
    day = sandbox.sms_sent[0].sent_at.astimezone(CHINA).date()
    found = client.find_sent(phone="13912345678", day=day, out_id="logistics:test:1")
    assert found is not None and found.template_code == "SMS_480100002"
    assert client.find_sent(phone="13912345678", day=day, out_id="other") is None


def test_sms_errors_are_typed(sandbox):
    params = {"shop": "s", "courier": "c", "waybill": "w"}
    with pytest.raises(InvalidRecipient):
        sms_api(sandbox).send(
            phone="135********",
            sign_name="丝施品牌店",
            template_code="SMS_480100002",
            params=params,
            out_id="x",
        )
    with pytest.raises(AuthenticationError):
        sms_api(sandbox, secret="wrong").send(
            phone="13912345678",
            sign_name="丝施品牌店",
            template_code="SMS_480100002",
            params=params,
            out_id="y",
        )
    sandbox.faults.set("sms", FaultConfig(busy_rate=1.0))
    with pytest.raises(RateLimited):
        sms_api(sandbox).send(
            phone="13912345678",
            sign_name="丝施品牌店",
            template_code="SMS_480100002",
            params=params,
            out_id="z",
        )
    assert sandbox.sms_sent == []
