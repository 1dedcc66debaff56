"""Planting bad records through the admin API: TOP answers carry them, nothing else changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from aftercare.clients.taobao import parse_trade_page
from aftercare.clients.taobao_ratings import parse_rating_page
from sandbox import Sandbox, SandboxConfig
from sandbox.planted import TRADE_KINDS
from sandbox.wire import china_time

from .conftest import ANCHOR
from .signing import top_call

INCREMENT = "taobao.trades.sold.increment.get"


@pytest.fixture
def own() -> Iterator[Sandbox]:
    """A sandbox of its own: planted records stay in its world."""
    config = SandboxConfig(seed=3, orders_per_shop=10, anchor=ANCHOR, clock_tick=False)
    with Sandbox(config) as sb:
        sb.clock.set(ANCHOR)
        yield sb


def planted(http: requests.Session, sb: Sandbox, **body) -> dict:
    response = http.post(sb.base_url + "/_sandbox/plant", json=body, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def listed(http: requests.Session, sb: Sandbox, shop: str) -> dict[int, dict]:
    answer = top_call(
        http,
        sb.url("taobao"),
        INCREMENT,
        shop=shop,
        start_modified=china_time(ANCHOR - timedelta(hours=2)),
        end_modified=china_time(ANCHOR),
        page_size=100,
    )["trades_sold_increment_get_response"]
    return {t["tid"]: t for t in answer.get("trades", {}).get("trade", [])}


def test_each_kind_is_listed_with_its_one_defect(own: Sandbox, http: requests.Session):
    before = listed(http, own, "xiaoya")
    ids = {kind: planted(http, own, kind=kind, shop="xiaoya") for kind in TRADE_KINDS}
    trades = listed(http, own, "xiaoya")
    assert set(trades) == set(before) | {i["tid"] for i in ids.values()}

    def trade(kind: str) -> dict:
        return trades[ids[kind]["tid"]]

    assert trade("invalid_phone")["receiver_mobile"] == "1381234567", "shown even if masked"
    assert trade("no_items")["orders"] == {"order": []}
    assert trade("unknown_courier")["orders"]["order"][0]["logistics_company"] == "火星快递"
    unknown = trade("unknown_waybill")["orders"]["order"][0]
    assert (unknown["logistics_company"], unknown["invoice_no"]) == (
        "圆通速递",
        ids["unknown_waybill"]["waybill"],
    )
    assert own.world.tracked_shipment("yuantong", unknown["invoice_no"]) is None
    assert trade("future_time")["modified"] == china_time(ANCHOR + timedelta(hours=2))
    assert trade("zoned_time")["created"].endswith("+08:00")
    # Our parser takes the good ones and refuses the unreadable one with its reason.
    page = parse_trade_page({"trades": {"trade": list(trades.values())}})
    assert [tid for tid, _ in page.rejected] == [str(ids["zoned_time"]["tid"])]


def test_a_planted_rating_is_listed_with_its_text(own: Sandbox, http: requests.Session):
    text = "质量差<script>{{7*7}}</script>\x00\n𠀋👍🏽" + "长" * 100_000
    ids = planted(
        http, own, kind="rating", shop="mumu", nick="|<b>买家</b>", content=text, hours_ahead=3
    )
    answer = top_call(
        http,
        own.url("taobao"),
        "taobao.traderates.get",
        shop="mumu",
        rate_type="get",
        role="buyer",
        result="bad",
        start_date=china_time(ANCHOR - timedelta(hours=1)),
        end_date=china_time(ANCHOR),
        fields="tid,oid,nick,result,created,item_title,content",
    )["traderates_get_response"]
    rated = {r["oid"]: r for r in answer["trade_rates"]["trade_rate"]}[ids["oid"]]
    assert rated["content"] == text and rated["nick"] == "|<b>买家</b>"
    assert rated["created"] == china_time(ANCHOR + timedelta(hours=3))
    page = parse_rating_page(answer)
    assert {r.oid for r in page.ratings} >= {str(ids["oid"])}


def test_bad_plant_requests_are_refused(own: Sandbox, http: requests.Session):
    for body in ({"kind": "nonsense", "shop": "sishi"}, {"kind": "no_items", "shop": "nowhere"}):
        response = http.post(own.base_url + "/_sandbox/plant", json=body, timeout=5)
        assert response.status_code == 400 and "unknown" in response.json()["error"]
    assert http.get(own.base_url + "/_sandbox/plant", timeout=5).status_code == 400
