"""Buyers answer unpaid-order reminders: a reminder SMS may make them pay a while later."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from sandbox import SHOPS, Sandbox, SandboxConfig, build_world
from sandbox.conversions import ReminderResponder, reminder_shop
from sandbox.sms import SmsRecord, SmsTemplate
from sandbox.wire import china_time

from .signing import sms_call, top_call

ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
REMINDER = "SMS_480200001"
REMINDERS = """
[unpaid_automatic]
code = "SMS_480200001"
kind = "transactional"
text = "亲，您在${shop}拍下的宝贝还没付款哦，付款后我们马上为您发货~"

["unpaid_group_buy@mumu"]
code = "SMS_480200003"
kind = "transactional"
text = "亲，您在${shop}参加的团购还有几分钟就关闭啦，记得付款哦~"
"""
LOGISTICS = "SMS_480100002"
# A templates file of the tests' own: the project's file changes as reminders are added.
APPROVED = """
[logistics_stalled_minor]
code = "SMS_480100002"
kind = "transactional"
text = "亲，您在${shop}的包裹（${courier} ${waybill}）这两天在途中耽搁了~"
"""


def _approved_templates() -> str:
    return APPROVED


@pytest.fixture(scope="module")
def templates_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sms") / "sms.toml"
    path.write_text(_approved_templates() + REMINDERS, "utf-8")
    return path


def _config(path: Path, rate: float = 1.0) -> SandboxConfig:
    return SandboxConfig(
        seed=7,
        orders_per_shop=150,
        anchor=ANCHOR,
        clock_tick=False,
        sms_templates_path=str(path),
        reminder_conversion_rate=rate,
    )


@pytest.fixture
def sandbox(templates_file: Path) -> Iterator[Sandbox]:
    with Sandbox(_config(templates_file)) as running:
        yield running


def _remind(
    sb: Sandbox, phone: str, shop: str, code: str = REMINDER, **values: str
) -> requests.Response:
    params = {
        "PhoneNumbers": phone,
        "SignName": SHOPS[shop].sign_name,
        "TemplateCode": code,
        "TemplateParam": json.dumps({"shop": SHOPS[shop].name, **values}, ensure_ascii=False),
        "OutId": f"remind:{phone}",
    }
    return sms_call(requests.Session(), sb.url("sms"), "SendSms", params)


def _open_orders(sb: Sandbox, shop: str) -> list:
    """Orders unpaid at the anchor whose fate keeps them open far beyond 10 hours."""
    return [
        t
        for tid, f in sb.world.fates.items()
        if f.status_at(ANCHOR) == "WAIT_BUYER_PAY"
        and not f.paid
        and f.settles_at > ANCHOR + 11 * HOUR
        and (t := sb.world.trade(tid)).shop == shop
    ]


def test_a_reminded_buyer_pays_later_and_the_shop_api_shows_it(sandbox: Sandbox):
    trade = _open_orders(sandbox, "sishi")[0]
    assert _remind(sandbox, trade.buyer.phone, "sishi").json()["Code"] == "OK"
    [(tid, paid_at)] = [c for c in sandbox.world.conversions if c.tid == trade.tid]
    assert 5 * MINUTE <= paid_at - ANCHOR <= 600 * MINUTE
    fate = sandbox.world.fate(tid)
    assert fate.paid and fate.converted and fate.settles_at == paid_at

    http, url = requests.Session(), sandbox.url("taobao")
    fullinfo = "taobao.trade.fullinfo.get"
    before = top_call(http, url, fullinfo, tid=tid)["trade_fullinfo_get_response"]["trade"]
    assert before["status"] == "WAIT_BUYER_PAY"
    sandbox.clock.set(paid_at)
    after = top_call(http, url, fullinfo, tid=tid)["trade_fullinfo_get_response"]["trade"]
    assert (after["status"], after["pay_time"]) == ("WAIT_SELLER_SEND_GOODS", china_time(paid_at))
    window = {"start_modified": china_time(paid_at - MINUTE), "end_modified": china_time(paid_at)}
    body = top_call(http, url, "taobao.trades.sold.increment.get", **window)
    listed = body["trades_sold_increment_get_response"]["trades"]["trade"]
    assert any(t["tid"] == tid and t["status"] == "WAIT_SELLER_SEND_GOODS" for t in listed)


def _two_orders_one_phone(sb: Sandbox) -> tuple:
    """Return an order that stays open long and another open order of the same phone."""
    for long_open in (
        _open_orders(sb, "sishi") + _open_orders(sb, "mumu") + _open_orders(sb, "xiaoya")
    ):
        others = [
            t
            for t in sb.world.unpaid_of_phone(long_open.buyer.phone, ANCHOR)
            if t.shop != long_open.shop
        ]
        if others:
            return long_open, others[0]
    raise AssertionError("the world should hold a buyer with open orders in two shops")


def test_only_reminders_of_the_orders_shop_convert(sandbox: Sandbox):
    long_open, other = _two_orders_one_phone(sandbox)
    phone = long_open.buyer.phone
    assert _remind(sandbox, phone, long_open.shop, LOGISTICS, courier="圆通", waybill="1").ok
    assert sandbox.world.conversions == []
    assert _remind(sandbox, phone, long_open.shop).json()["Code"] == "OK"
    assert [c.tid for c in sandbox.world.conversions] == [long_open.tid]
    assert sandbox.world.trade(other.tid).status == "WAIT_BUYER_PAY"


def test_an_order_named_in_the_params_is_the_one_reminded(sandbox: Sandbox):
    long_open, other = _two_orders_one_phone(sandbox)
    assert _remind(sandbox, other.buyer.phone, other.shop, order=str(long_open.tid)).ok
    assert [c.tid for c in sandbox.world.conversions] == [long_open.tid]


def test_orders_that_settle_first_or_were_paid_explicitly_do_not_convert():
    world = build_world(7, 60, ANCHOR)
    tid, fate = next(
        (tid, f) for tid, f in world.fates.items() if f.status_at(ANCHOR) == "WAIT_BUYER_PAY"
    )
    after = fate.settles_at + MINUTE
    assert not world.convert(tid, after, reminded_at=ANCHOR)  # closes or pays before that
    assert not world.convert(tid, ANCHOR + MINUTE, reminded_at=fate.settles_at)  # not open then
    settled = next(t for t, f in world.fates.items() if f.settles_at <= ANCHOR)
    assert not world.convert(settled, ANCHOR + HOUR, reminded_at=ANCHOR)
    assert world.conversions == []
    world.pay(tid, fate.settles_at - MINUTE)
    assert not world.convert(tid, ANCHOR + MINUTE, reminded_at=ANCHOR)  # the test's word wins
    other = next(
        t for t, f in world.fates.items() if f.status_at(ANCHOR) == "WAIT_BUYER_PAY" and t != tid
    )
    paid_at = min(world.fate(other).settles_at - MINUTE, ANCHOR + 5 * MINUTE)
    assert world.convert(other, paid_at, reminded_at=ANCHOR)
    assert world.conversions == [(other, paid_at)]
    assert not world.convert(other, paid_at - MINUTE, reminded_at=paid_at)  # already paid by then


def test_templates_added_to_the_file_later_are_picked_up(tmp_path: Path):
    path = tmp_path / "sms.toml"
    path.write_text(_approved_templates(), "utf-8")
    with Sandbox(_config(path)) as sb:
        trade = _open_orders(sb, "sishi")[0]
        refused = _remind(sb, trade.buyer.phone, "sishi").json()
        assert refused["Code"] == "isv.SMS_TEMPLATE_ILLEGAL"
        path.write_text(_approved_templates() + REMINDERS, "utf-8")
        assert _remind(sb, trade.buyer.phone, "sishi").json()["Code"] == "OK"
        assert trade.tid in {c.tid for c in sb.world.conversions}


def test_conversion_rate_is_seeded_and_near_the_setting():
    def conversions(seed: int) -> list:
        world = build_world(seed, 400, ANCHOR, stage_weights={"unpaid": 1})
        responder = ReminderResponder(world, seed, 0.35)
        template = SmsTemplate("unpaid_automatic", REMINDER, "transactional", "${shop}")
        reminded = 0
        before = world.fates
        for tid, fate in before.items():
            trade = world.trade_at(tid, ANCHOR)
            if fate.status_at(ANCHOR) != "WAIT_BUYER_PAY":
                continue
            # Orders that stay open past any payment a reminder could bring measure the rate.
            reminded += not fate.paid and fate.settles_at > ANCHOR + 11 * HOUR
            record = SmsRecord(
                trade.buyer.phone,
                SHOPS[trade.shop].sign_name,
                REMINDER,
                {"shop": "x", "order": str(tid)},
                f"{tid}:automatic",
                "1^0",
                ANCHOR,
                "x",
            )
            responder.on_sms(record, template)
        assert reminded > 300
        for tid, paid_at in world.conversions:
            assert 5 * MINUTE <= paid_at - ANCHOR <= 600 * MINUTE
            assert paid_at < before[tid].settles_at  # never after the order closes or is paid
        measured = [c for c in world.conversions if before[c.tid].settles_at > ANCHOR + 11 * HOUR]
        measured = [c for c in measured if not before[c.tid].paid]
        assert 0.27 < len(measured) / reminded < 0.43
        return list(world.conversions)

    assert conversions(3) == conversions(3)


def test_reminder_templates_name_their_shop():
    variant = SmsTemplate("unpaid_group_buy@mumu", "X", "transactional", "")
    plain = SmsTemplate("unpaid_automatic", "Y", "transactional", "")
    assert reminder_shop(variant, SHOPS["sishi"].sign_name) == "mumu"
    assert reminder_shop(plain, SHOPS["xiaoya"].sign_name) == "xiaoya"
    assert reminder_shop(plain, "别人家") is None
