"""Taobao TOP gateway over real HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests

from sandbox import Sandbox
from sandbox.wire import china_time

from .conftest import ANCHOR
from .signing import top_call, top_params

INCREMENT = "taobao.trades.sold.increment.get"
FULLINFO = "taobao.trade.fullinfo.get"


def _window(start: datetime, end: datetime) -> dict[str, str]:
    return {"start_modified": china_time(start), "end_modified": china_time(end)}


def _expected_tids(sb: Sandbox, shop: str, start: datetime, end: datetime) -> list[int]:
    now = sb.clock.now()
    trades = [t for t in sb.world.trades_of(shop) if start <= t.modified <= min(end, now)]
    return [t.tid for t in sorted(trades, key=lambda t: (t.modified, t.tid))]


def _error(body: dict) -> dict:
    assert "error_response" in body, body
    error = body["error_response"]
    assert error["request_id"]
    return error


@pytest.mark.parametrize("sign_method", ["md5", "hmac"])
def test_signed_increment_call_returns_the_shops_trades(
    sb: Sandbox, http: requests.Session, sign_method: str
):
    start = ANCHOR - timedelta(hours=23)
    body = top_call(
        http,
        sb.url("taobao"),
        INCREMENT,
        sign_method=sign_method,
        page_size=100,
        **_window(start, ANCHOR),
    )
    response = body["trades_sold_increment_get_response"]
    expected = _expected_tids(sb, "sishi", start, ANCHOR)
    assert expected, "the window should hold trades"
    assert response["total_results"] == len(expected)
    assert [t["tid"] for t in response["trades"]["trade"]] == expected
    assert response["request_id"]


def test_wrong_secret_is_an_invalid_signature(sb: Sandbox, http: requests.Session):
    body = top_call(http, sb.url("taobao"), INCREMENT, secret="nope", **_window(ANCHOR, ANCHOR))
    assert _error(body)["code"] == 25
    assert sb.stats.rejected_signatures["taobao"] == 1


def test_tampered_params_are_an_invalid_signature(sb: Sandbox, http: requests.Session):
    params = top_params(INCREMENT, **_window(ANCHOR - timedelta(hours=1), ANCHOR))
    params["page_size"] = "5"  # added after signing
    body = http.post(sb.url("taobao"), data=params, timeout=5).json()
    assert _error(body)["code"] == 25


def test_session_app_key_and_method_errors(sb: Sandbox, http: requests.Session):
    url, window = sb.url("taobao"), _window(ANCHOR, ANCHOR)
    assert _error(top_call(http, url, INCREMENT, session="stranger", **window))["code"] == 27
    params = top_params(INCREMENT, **window)
    params["app_key"] = "999"
    assert _error(http.post(url, data=params, timeout=5).json())["code"] == 29
    assert _error(top_call(http, url, "taobao.nothing.here"))["code"] == 22
    assert _error(http.post(url, data={"app_key": "12345678"}, timeout=5).json())["code"] == 21


def test_timestamp_skew_is_judged_on_the_real_clock(sb: Sandbox, http: requests.Session):
    url, window = sb.url("taobao"), _window(ANCHOR, ANCHOR)
    stale = datetime.now(UTC) - timedelta(minutes=11)
    assert _error(top_call(http, url, INCREMENT, when=stale, **window))["code"] == 31
    # The simulated clock is elsewhere entirely; a real-time stamp still passes.
    sb.clock.set(ANCHOR - timedelta(days=3))
    assert "trades_sold_increment_get_response" in top_call(http, url, INCREMENT, **window)


def test_window_over_one_day_is_rejected(sb: Sandbox, http: requests.Session):
    window = _window(ANCHOR - timedelta(days=1, seconds=1), ANCHOR)
    error = _error(top_call(http, sb.url("taobao"), INCREMENT, **window))
    assert (error["code"], error["sub_code"]) == (41, "isv.invalid-parameter")


def test_missing_arguments_and_bad_page_size(sb: Sandbox, http: requests.Session):
    url = sb.url("taobao")
    assert _error(top_call(http, url, INCREMENT))["code"] == 40
    window = _window(ANCHOR - timedelta(hours=1), ANCHOR)
    assert _error(top_call(http, url, INCREMENT, page_size=101, **window))["code"] == 41


def test_paging_with_total_results_is_consistent(sb: Sandbox, http: requests.Session):
    start = ANCHOR - timedelta(days=1)
    expected = _expected_tids(sb, "xiaoya", start, ANCHOR)
    seen: list[int] = []
    for page_no in range(1, 100):
        body = top_call(
            http,
            sb.url("taobao"),
            INCREMENT,
            shop="xiaoya",
            page_no=page_no,
            page_size=3,
            **_window(start, ANCHOR),
        )["trades_sold_increment_get_response"]
        assert body["total_results"] == len(expected)
        if "trades" not in body:
            break
        seen += [t["tid"] for t in body["trades"]["trade"]]
    assert seen == expected


def test_paging_with_has_next(sb: Sandbox, http: requests.Session):
    start = ANCHOR - timedelta(days=1)
    expected = _expected_tids(sb, "mumu", start, ANCHOR)
    seen: list[int] = []
    page_no = 1
    while True:
        body = top_call(
            http,
            sb.url("taobao"),
            INCREMENT,
            shop="mumu",
            page_no=page_no,
            page_size=4,
            use_has_next="true",
            **_window(start, ANCHOR),
        )["trades_sold_increment_get_response"]
        assert "total_results" not in body
        seen += [t["tid"] for t in body.get("trades", {}).get("trade", [])]
        if not body["has_next"]:
            break
        page_no += 1
    assert seen == expected


def test_trades_modified_after_the_sandbox_clock_are_hidden(sb: Sandbox, http: requests.Session):
    start = ANCHOR - timedelta(hours=20)
    sb.clock.set(ANCHOR - timedelta(hours=10))
    body = top_call(http, sb.url("taobao"), INCREMENT, page_size=100, **_window(start, ANCHOR))
    tids = [t["tid"] for t in body["trades_sold_increment_get_response"]["trades"]["trade"]]
    assert tids == _expected_tids(sb, "sishi", start, ANCHOR)
    assert len(tids) < len([t for t in sb.world.trades_of("sishi") if start <= t.modified])


def test_trade_json_shape_and_phone_masking(sb: Sandbox, http: requests.Session):
    window = _window(ANCHOR - timedelta(days=1), ANCHOR)
    for shop, masked in (("sishi", False), ("xiaoya", True)):
        body = top_call(http, sb.url("taobao"), INCREMENT, shop=shop, **window)
        trade = body["trades_sold_increment_get_response"]["trades"]["trade"][0]
        assert isinstance(trade["tid"], int) and 16 <= len(str(trade["tid"])) <= 19
        assert re.fullmatch(r"\d+\.\d\d", trade["payment"])
        assert isinstance(trade["total_fee"], str) and isinstance(trade["post_fee"], str)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", trade["modified"])
        mobile = trade["receiver_mobile"]
        if masked:
            assert re.fullmatch(r"1[3-9]\d\*{4}\d{4}", mobile)
        else:
            assert re.fullmatch(r"1[3-9]\d{9}", mobile)
        order = trade["orders"]["order"][0]
        assert {"oid", "title", "num", "price", "cid", "status"} <= set(order)


def test_fields_select_what_comes_back(sb: Sandbox, http: requests.Session):
    window = _window(ANCHOR - timedelta(days=1), ANCHOR)
    body = top_call(
        http,
        sb.url("taobao"),
        INCREMENT,
        fields="tid,status,orders.title,orders.invoice_no",
        **window,
    )
    for trade in body["trades_sold_increment_get_response"]["trades"]["trade"]:
        assert set(trade) == {"tid", "status", "orders"}
        assert set(trade["orders"]["order"][0]) <= {"title", "invoice_no"}


def test_fullinfo_finds_the_shops_trade_only(sb: Sandbox, http: requests.Session):
    shipped = next(t for t in sb.world.trades_of("mumu") if t.waybill)
    body = top_call(http, sb.url("taobao"), FULLINFO, shop="mumu", tid=shipped.tid)
    trade = body["trade_fullinfo_get_response"]["trade"]
    assert trade["tid"] == shipped.tid
    assert trade["orders"]["order"][0]["invoice_no"] == shipped.waybill
    assert trade["orders"]["order"][0]["logistics_company"] == shipped.logistics_company
    for tid, shop in ((shipped.tid, "sishi"), (1234567890123456789, "mumu")):
        error = _error(top_call(http, sb.url("taobao"), FULLINFO, shop=shop, tid=tid))
        assert (error["code"], error["sub_code"]) == (15, "isv.trade-not-exist")


def test_pay_and_close_show_up_as_modifications(sb: Sandbox, http: requests.Session):
    at = ANCHOR + timedelta(minutes=5)
    unpaid = [
        t
        for t in sb.world.trades_of("sishi")
        if t.status == "WAIT_BUYER_PAY"
        and sb.world.fate(t.tid).settles_at > at + timedelta(hours=1)
    ][:2]
    sb.clock.set(at + timedelta(minutes=1))
    sb.world.pay(unpaid[0].tid, at)
    sb.world.close(unpaid[1].tid, at)
    body = top_call(http, sb.url("taobao"), INCREMENT, **_window(at, at + timedelta(minutes=1)))
    trades = {t["tid"]: t for t in body["trades_sold_increment_get_response"]["trades"]["trade"]}
    assert trades[unpaid[0].tid]["status"] == "WAIT_SELLER_SEND_GOODS"
    assert trades[unpaid[0].tid]["pay_time"] == china_time(at)
    assert trades[unpaid[1].tid]["status"] == "TRADE_CLOSED_BY_TAOBAO"
    with pytest.raises(ValueError):
        sb.world.pay(unpaid[1].tid, at)
