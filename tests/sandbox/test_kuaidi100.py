"""Kuaidi100 query and subscription over real HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests

from sandbox import SHOPS, Sandbox, ShipmentScenario
from sandbox.wire import china_time

from .conftest import ANCHOR
from .signing import KD100_KEY, kd100_form, kd100_query


def _first(sb: Sandbox, scenario: str, *, coms: tuple[str, ...] | None = None) -> ShipmentScenario:
    for shipment in sb.world.shipments_in(scenario):
        if coms is None or shipment.com in coms:
            return shipment
    pytest.skip(f"no {scenario} shipment with {coms}")


def _query(sb: Sandbox, http: requests.Session, s: ShipmentScenario, **extra: object) -> dict:
    extra.setdefault("phone", s.receiver_phone)
    response = kd100_query(http, sb.url("kuaidi100"), s.com, s.waybill, **extra)
    assert response.status_code == 200
    return response.json()


def test_signed_query_returns_the_timeline_newest_first(sb: Sandbox, http: requests.Session):
    shipment = _first(sb, "delivered")
    body = _query(sb, http, shipment)
    events = shipment.visible(ANCHOR)
    assert body["message"] == "ok"
    assert (body["nu"], body["com"], body["status"], body["condition"]) == (
        shipment.waybill,
        shipment.com,
        "200",
        "F00",
    )
    assert body["state"] == "3" and body["ischeck"] == "1"
    assert [item["time"] for item in body["data"]] == [china_time(e.time) for e in events][::-1]
    newest = body["data"][0]
    assert newest["status"] == "签收" and newest["statusCode"] == "301"
    assert newest["ftime"] == newest["time"]
    assert len(newest["areaCode"]) == 12 and newest["areaName"]


def test_without_resultv2_items_carry_no_area_or_status_code(sb: Sandbox, http: requests.Session):
    shipment = _first(sb, "delivered")
    body = _query(sb, http, shipment, resultv2="0", order="asc")
    first = body["data"][0]
    assert set(first) == {"time", "ftime", "context", "status"}
    assert first["status"] == "揽收"  # asc: oldest first


def test_bad_signature_is_rejected(sb: Sandbox, http: requests.Session):
    shipment = _first(sb, "delivered")
    form = kd100_form({"com": shipment.com, "num": shipment.waybill}, key="wrong-key")
    body = http.post(sb.url("kuaidi100") + "/poll/query.do", data=form, timeout=5).json()
    assert body == {"result": False, "returnCode": "503", "message": "验证签名失败"}
    assert sb.stats.rejected_signatures["kuaidi100"] == 1


def test_unknown_customer_and_incomplete_requests(sb: Sandbox, http: requests.Session):
    url = sb.url("kuaidi100") + "/poll/query.do"
    form = kd100_form({"com": "yuantong", "num": "YT1"}, customer="SOMEONEELSE")
    assert http.post(url, data=form, timeout=5).json()["returnCode"] == "601"
    assert http.post(url, data={"customer": "x"}, timeout=5).json()["returnCode"] == "400"
    form = kd100_form({"com": "nosuchcourier", "num": "YT1"})
    assert http.post(url, data=form, timeout=5).json()["returnCode"] == "400"


def test_phone_is_required_for_shunfeng_and_zhongtong(sb: Sandbox, http: requests.Session):
    shipment = _first(sb, "delivered", coms=("shunfeng", "zhongtong"))
    assert _query(sb, http, shipment, phone="")["returnCode"] == "408"
    assert _query(sb, http, shipment, phone="13999999999")["returnCode"] == "408"
    assert _query(sb, http, shipment, phone=shipment.receiver_phone[-4:])["message"] == "ok"
    sb.clock.advance(timedelta(minutes=31))
    sender = SHOPS[shipment.shop].sender_phone
    assert _query(sb, http, shipment, phone=sender)["message"] == "ok"


def test_waybill_is_locked_for_30_minutes_after_a_query(sb: Sandbox, http: requests.Session):
    shipment = _first(sb, "in_transit")
    assert _query(sb, http, shipment)["message"] == "ok"
    sb.clock.advance(timedelta(minutes=29))
    locked = _query(sb, http, shipment)
    assert locked["returnCode"] == "400" and "锁定" in locked["message"]
    assert sb.stats.kuaidi100_locks == 1
    sb.clock.advance(timedelta(minutes=2))
    assert _query(sb, http, shipment)["message"] == "ok"
    assert sb.stats.kuaidi100_queries[shipment.waybill] == 3


def test_no_result_also_locks(sb: Sandbox, http: requests.Session):
    shipment = _first(sb, "no_tracking")
    body = _query(sb, http, shipment)
    assert body == {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}
    assert _query(sb, http, shipment)["returnCode"] == "400"


@pytest.mark.parametrize("scenario", ["no_tracking", "lost"])
def test_parcels_without_scans_answer_no_result(sb: Sandbox, http: requests.Session, scenario):
    assert _query(sb, http, _first(sb, scenario))["returnCode"] == "500"


def test_unknown_waybills_answer_no_result(sb: Sandbox, http: requests.Session):
    unknown = _first(sb, "unknown_courier")
    body = kd100_query(http, sb.url("kuaidi100"), "yuantong", unknown.waybill).json()
    assert body["returnCode"] == "500"
    body = kd100_query(http, sb.url("kuaidi100"), "yunda", "4300000000000").json()
    assert body["returnCode"] == "500"


def test_only_events_up_to_the_sandbox_clock_are_visible(sb: Sandbox, http: requests.Session):
    shipment = _first(sb, "in_transit")
    all_events = shipment.events
    now_visible = shipment.visible(ANCHOR)
    assert 0 < len(now_visible) < len(all_events)
    assert len(_query(sb, http, shipment)["data"]) == len(now_visible)

    sb.clock.set(all_events[-1].time + timedelta(minutes=1))
    later = _query(sb, http, shipment)
    assert len(later["data"]) == len(all_events)
    assert later["state"] == "3" and later["ischeck"] == "1"

    sb.clock.set(shipment.shipped_at + timedelta(minutes=1))  # before the pickup scan
    assert _query(sb, http, shipment)["returnCode"] == "500"


def test_state_is_the_state_after_the_newest_visible_event(sb: Sandbox, http: requests.Session):
    expected = {"problem": "2", "refused": "14", "returning": "6", "returned": "4"}
    for scenario, state in expected.items():
        body = _query(sb, http, _first(sb, scenario))
        assert body["state"] == state, scenario
        assert body["data"][0]["statusCode"] == state
    proxy = _query(sb, http, _first(sb, "proxy_signed"))
    assert proxy["state"] == "3" and proxy["data"][0]["statusCode"] == "303"
    out = _query(sb, http, _first(sb, "out_for_delivery"))
    assert out["state"] == "5" and out["data"][0]["status"] == "派件"


def test_malformed_waybill_cycles_through_broken_bodies(sb: Sandbox, http: requests.Session):
    shipment = _first(sb, "malformed")
    url = sb.url("kuaidi100")
    raw = [
        kd100_query(http, url, shipment.com, shipment.waybill, phone=shipment.receiver_phone)
        for _ in range(4)
    ]
    assert all(r.status_code == 200 for r in raw)
    with pytest.raises(ValueError):
        json.loads(raw[0].text)
    assert not isinstance(raw[1].json()["data"], list)
    assert raw[2].json()["state"] == "在途"
    assert "年" in raw[3].json()["data"][0]["time"]


def test_subscribe_records_and_rejects_as_documented(sb: Sandbox, http: requests.Session):
    url = sb.url("kuaidi100") + "/poll"

    def subscribe(**overrides: object) -> dict:
        param = {
            "company": "yuantong",
            "number": "YT1234567890123",
            "key": KD100_KEY,
            "parameters": {"callbackurl": "http://127.0.0.1:9/cb", "salt": "s", "resultv2": "1"},
        }
        param.update(overrides)
        form = {"schema": "json", "param": json.dumps(param)}
        return http.post(url, data=form, timeout=5).json()

    assert subscribe() == {"result": True, "returnCode": "200", "message": "提交成功"}
    assert subscribe()["returnCode"] == "501"
    assert subscribe(number="YT2", key="bad")["returnCode"] == "600"
    assert subscribe(number="YT3", parameters={})["returnCode"] == "700"
    assert subscribe(number="YT4", company="mystery")["returnCode"] == "702"
    assert [(s.company, s.number, s.salt) for s in sb.subscriptions] == [
        ("yuantong", "YT1234567890123", "s")
    ]
