"""Provider payload parsers: valid records or typed errors, never anything else."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from aftercare.clients.kuaidi100 import (
    PhoneCheckFailed,
    WaybillLocked,
    parse_push,
    parse_query_response,
)
from aftercare.clients.taobao import parse_trade

OK = {
    "message": "ok",
    "nu": "YT1",
    "ischeck": "1",
    "condition": "F00",
    "com": "yuantong",
    "status": "200",
    "state": "3",
    "data": [
        {
            "time": "2026-11-20 18:00:00",
            "ftime": "2026-11-20 18:00:00",
            "context": "已签收",
            "status": "签收",
            "areaCode": "110000000000",
            "areaName": "北京市",
            "statusCode": "301",
        },
        {
            "time": "2026-11-18 09:30:00",
            "ftime": "2026-11-18 09:30:00",
            "context": "已揽收",
            "status": "揽收",
            "statusCode": "103",
        },
    ],
}


def test_query_answer_parses_oldest_first_in_utc():
    result = parse_query_response(OK, "yuantong", "YT1")
    assert result.state == 3 and result.signed
    assert [e.context for e in result.events] == ["已揽收", "已签收"]
    assert result.events[0].occurred_at == datetime(2026, 11, 18, 1, 30, tzinfo=UTC)
    assert result.events[1].area_name == "北京市" and result.events[1].status_code == "301"


def test_no_result_yet_is_an_empty_history_not_an_error():
    body = {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}
    result = parse_query_response(body, "yunda", "43")
    assert result.events == () and result.state is None


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        ("400", "该单号查询过于频繁，已被锁定，请30分钟后再查", WaybillLocked),
        ("400", "找不到对应公司", RequestRejected),
        ("408", "手机号码校验未通过", PhoneCheckFailed),
        ("501", "服务器错误", ProviderUnavailable),
        ("502", "服务器繁忙", RateLimited),
        ("503", "验证签名失败", AuthenticationError),
        ("601", "POLL:KEY已过期", AuthenticationError),
        ("999", "?", RequestRejected),
    ],
)
def test_query_failures_map_to_typed_errors(code, message, kind):
    with pytest.raises(kind):
        parse_query_response({"result": False, "returnCode": code, "message": message}, "c", "n")


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {**OK, "data": "not a list"},
        {**OK, "state": "-1"},
        {**OK, "state": "x"},
        {**OK, "data": [{"time": "yesterday", "context": "?"}]},
        {**OK, "data": [{"time": "2026-11-20 18:00:00"}]},
        {**OK, "data": [{"time": "2026-11-20 18:00:00", "context": 5}]},
        {**OK, "data": [7]},
    ],
)
def test_malformed_query_answers_raise_the_typed_error(body):
    with pytest.raises(MalformedResponse):
        parse_query_response(body, "yuantong", "YT1")


def test_push_parses_the_last_result():
    notice = parse_push(
        json.dumps({"status": "polling", "message": "", "autoCheck": "0", "lastResult": OK})
    )
    assert notice.status == "polling" and notice.result and notice.result.state == 3
    with pytest.raises(MalformedResponse):
        parse_push("{not json")
    with pytest.raises(MalformedResponse):
        parse_push(json.dumps({"message": "no status"}))


TRADE = {
    "tid": 4123456789012345678,
    "status": "WAIT_BUYER_CONFIRM_GOODS",
    "type": "fixed",
    "buyer_nick": "小鱼儿2019",
    "created": "2026-11-18 09:00:00",
    "modified": "2026-11-19 10:00:00",
    "pay_time": "2026-11-18 09:05:00",
    "consign_time": "2026-11-19 10:00:00",
    "payment": "129.00",
    "receiver_name": "张三",
    "receiver_mobile": "135*******",
    "receiver_state": "浙江省",
    "receiver_city": "杭州市",
    "orders": {
        "order": [
            {
                "oid": 4123456789012345679,
                "title": "蕾丝文胸",
                "num": 1,
                "price": "129.00",
                "cid": 50008881,
                "logistics_company": "圆通速递",
                "invoice_no": "YT1234567890123",
            }
        ]
    },
}


def test_trade_parses_with_masked_phone_flagged():
    trade = parse_trade(TRADE)
    assert trade.tid == "4123456789012345678" and trade.payment == Decimal("129.00")
    assert trade.phone_masked and trade.items[0].waybill == "YT1234567890123"
    assert trade.created == datetime(2026, 11, 18, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "broken",
    [
        None,
        {**TRADE, "tid": "abc"},
        {**TRADE, "created": "18/11/2026"},
        {**TRADE, "payment": "lots"},
        {k: v for k, v in TRADE.items() if k != "buyer_nick"},
        {**TRADE, "orders": {"order": [{"title": "no oid"}]}},
    ],
)
def test_unreadable_trades_raise_the_typed_error(broken):
    with pytest.raises(MalformedResponse):
        parse_trade(broken)


@pytest.mark.parametrize("state", ["99", "1001", "301", "501"])
def test_an_undocumented_but_well_formed_state_is_read_not_refused(state):
    result = parse_query_response({**OK, "state": state}, "c", "n")
    assert result.state == int(state)


def test_number_recognition_lists_the_suggested_couriers_likeliest_first():
    from aftercare.clients.kuaidi100 import parse_autonumber

    answer = [{"comCode": "yuantong", "lengthPre": 15}, {"comCode": "yunda"}, {"comCode": 5}]
    assert parse_autonumber(answer) == ["yuantong", "yunda"]
    assert parse_autonumber([]) == []
    with pytest.raises(AuthenticationError):
        parse_autonumber({"result": False, "returnCode": "601", "message": "POLL:KEY已过期"})
    with pytest.raises(MalformedResponse):
        parse_autonumber("yuantong")
