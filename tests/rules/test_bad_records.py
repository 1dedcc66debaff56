"""Which readable records are still refused, and why: stamps ahead, no items, no waybill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftercare.clients.taobao import TradeItemRecord, TradeRecord, parse_trade
from aftercare.clients.taobao_ratings import RatingRecord
from aftercare.rules.couriers import waybill_problem
from aftercare.rules.sync import rating_problem, stamped_ahead, trade_problem

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SKEW = timedelta(minutes=10)
ITEM = TradeItemRecord("1", "文胸", 1, Decimal("99"), None, None, None)


def trade(**changes) -> TradeRecord:
    values = {
        "tid": "1",
        "status": "WAIT_BUYER_PAY",
        "trade_type": "fixed",
        "buyer_nick": "tb_1",
        "created": NOW - timedelta(hours=1),
        "modified": NOW - timedelta(minutes=30),
        "pay_time": None,
        "consign_time": None,
        "end_time": None,
        "payment": Decimal("99"),
        "receiver_name": "张三",
        "receiver_mobile": "13812345678",
        "phone_masked": False,
        "province": None,
        "city": None,
        "items": (ITEM,),
    }
    return TradeRecord(**{**values, **changes})


def test_a_good_trade_passes():
    assert trade_problem(trade(), NOW, SKEW) == ""


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"items": ()}, "no items"),
        ({"modified": NOW + timedelta(minutes=11)}, "modified 2026-11-20 02:11 UTC is 11 min"),
        ({"created": NOW + timedelta(days=2)}, "created 2026-11-22 02:00 UTC is 2880 min"),
        ({"status": "等待付款"}, "unknown trade status"),
        ({"status": "X" * 41}, "unknown trade status"),
        ({"buyer_nick": ""}, "buyer nick of 0 characters"),
        ({"buyer_nick": "长" * 101}, "buyer nick of 101 characters"),
    ],
)
def test_a_readable_but_unusable_trade_gets_its_reason(changes, words):
    assert words in trade_problem(trade(**changes), NOW, SKEW)


def test_clock_skew_within_the_tolerance_is_accepted():
    assert stamped_ahead({"modified": NOW + SKEW}, NOW, SKEW) == ""
    assert stamped_ahead({"modified": NOW + SKEW + timedelta(seconds=1)}, NOW, SKEW)
    assert stamped_ahead({"pay_time": None}, NOW, SKEW) == ""


def test_a_rating_or_its_follow_up_from_the_future_is_refused():
    rating = RatingRecord("1", "1", "tb", "bad", NOW, "", "差", None, None, None)
    assert rating_problem(rating, NOW, SKEW) == ""
    late = RatingRecord("1", "1", "tb", "bad", NOW, "", "差", None, "追评", NOW + timedelta(days=1))
    assert "append_created" in rating_problem(late, NOW, SKEW)


def test_wire_times_are_shanghai_wall_clock_and_an_offset_is_refused():
    raw = {
        "tid": 1,
        "status": "WAIT_BUYER_PAY",
        "buyer_nick": "n",
        "modified": "2026-11-20 10:00:00",
    }
    assert parse_trade({**raw, "created": "2026-11-20 10:00:00"}).created == NOW
    for other in ("2026-11-20T10:00:00+08:00", "2026-11-20 02:00:00Z", "2026/11/20 10:00:00"):
        with pytest.raises(Exception, match="unreadable time"):
            parse_trade({**raw, "created": other})


@pytest.mark.parametrize(
    "waybill", ["YT1234567890123", "SF1000000000001", "9812345678901", "JT-0012"]
)
def test_courier_waybills_are_accepted(waybill):
    assert waybill_problem(waybill) == ""


@pytest.mark.parametrize(
    "waybill", ["请联系客服", "YT 123456", "12345", "YT123\n456", "<script>", "9" * 41, "-12345"]
)
def test_a_number_that_is_no_waybill_is_refused_with_the_reason(waybill):
    assert "not a tracking number" in waybill_problem(waybill)
