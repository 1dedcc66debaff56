"""Every fault kind, observed from the client side over real HTTP."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import requests

from sandbox import FaultConfig, Sandbox, SandboxConfig

from .conftest import ANCHOR
from .signing import CHINA, kd100_query, sms_call, sms_params, top_params


def _kd100(sb: Sandbox, http: requests.Session, num: str = "YT0000000000001", **kw):
    return kd100_query(http, sb.url("kuaidi100"), "yuantong", num, **kw)


def _top(sb: Sandbox, http: requests.Session) -> requests.Response:
    window = {"start_modified": "2026-11-20 17:00:00", "end_modified": "2026-11-20 18:00:00"}
    params = top_params("taobao.trades.sold.increment.get", **window)
    return http.post(sb.url("taobao"), data=params, timeout=5)


def _sms_form(out_id: str) -> dict[str, str]:
    values = {"shop": "小雅家居", "courier": "中通快递", "waybill": "7"}
    return sms_params(
        "SendSms",
        {
            "PhoneNumbers": "13912345678",
            "SignName": "小雅家居",
            "TemplateCode": "SMS_480100001",
            "TemplateParam": json.dumps(values, ensure_ascii=False),
            "OutId": out_id,
        },
    )


def _sms(sb: Sandbox, http: requests.Session, out_id: str = "x") -> requests.Response:
    return http.post(sb.url("sms"), data=_sms_form(out_id), timeout=5)


def test_error_rate_one_answers_every_call_with_5xx(sb: Sandbox, http: requests.Session):
    sb.faults.set("*", FaultConfig(error_rate=1.0))
    statuses = [_kd100(sb, http).status_code for _ in range(6)]
    statuses += [_top(sb, http).status_code, _sms(sb, http).status_code]
    assert all(status in (500, 502, 503) for status in statuses)
    assert sb.stats.faults["error"] == 8
    assert sb.sms_sent == []


def test_admin_is_never_faulted(sb: Sandbox, http: requests.Session):
    sb.faults.set("*", FaultConfig(error_rate=1.0, drop_rate=0.0, latency_ms=0))
    assert http.get(sb.base_url + "/_sandbox/health", timeout=5).json()["status"] == "ok"


def test_busy_uses_each_providers_own_try_later_answer(sb: Sandbox, http: requests.Session):
    sb.faults.set("*", FaultConfig(busy_rate=1.0))
    assert _kd100(sb, http).json()["returnCode"] == "502"
    error = _top(sb, http).json()["error_response"]
    assert (error["code"], error["sub_code"]) == (7, "accesscontrol.limited-by-app-access-count")
    assert _sms(sb, http).json()["Code"] == "isv.BUSINESS_LIMIT_CONTROL"
    assert sb.stats.faults["busy"] == 3


def test_platform_error_is_an_isp_code(sb: Sandbox, http: requests.Session):
    sb.faults.set("taobao", FaultConfig(platform_error_rate=1.0))
    error = _top(sb, http).json()["error_response"]
    assert error["code"] == 15 and error["sub_code"].startswith("isp.")


def test_burst_gives_429_with_retry_after(sb: Sandbox, http: requests.Session):
    sb.faults.set("kuaidi100", FaultConfig(burst_every=2, burst_length=2, retry_after=3))
    responses = [_kd100(sb, http, num=f"YT000000000000{i}") for i in range(6)]
    assert [r.status_code for r in responses] == [200, 200, 429, 429, 200, 200]
    assert responses[2].headers["Retry-After"] == "3"
    assert sb.stats.faults["burst"] == 2


def test_drop_closes_the_connection(sb: Sandbox, http: requests.Session):
    sb.faults.set("kuaidi100", FaultConfig(drop_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        _kd100(sb, http)
    sb.faults.clear()
    assert _kd100(sb, http).status_code == 200  # the session recovers with a new connection


def test_timeout_fires_the_clients_read_timeout(sb: Sandbox, http: requests.Session):
    sb.faults.set("kuaidi100", FaultConfig(timeout_rate=1.0, timeout_seconds=0.5))
    url = sb.url("kuaidi100") + "/poll/query.do"
    # The client gives up first: the gateway's own answer comes only after 0.5 s.
    with pytest.raises(requests.ReadTimeout):
        http.post(url, data={"customer": "x"}, timeout=(1, 0.2))
    # A patient caller gets the gateway's 504 once the wait is over.
    assert http.post(url, data={"customer": "x"}, timeout=3).status_code == 504
    assert sb.stats.faults["timeout"] == 2


def test_malformed_gives_a_truncated_body(sb: Sandbox, http: requests.Session):
    sb.faults.set("*", FaultConfig(malformed_rate=1.0))
    for response in (_kd100(sb, http), _top(sb, http), _sms(sb, http)):
        assert response.status_code == 200
        with pytest.raises(ValueError):
            json.loads(response.text)
    assert sb.sms_sent == []


def test_latency_is_added(sb: Sandbox, http: requests.Session):
    sb.faults.set("taobao", FaultConfig(latency_ms=150))
    started = time.monotonic()
    _top(sb, http)
    assert time.monotonic() - started >= 0.15


def test_max_rps_throttles_each_provider_its_own_way(sb: Sandbox, http: requests.Session):
    sb.faults.set("*", FaultConfig(max_rps=2))
    kd = [_kd100(sb, http, num=f"YT00000000001{i}") for i in range(5)]
    assert [r.status_code for r in kd].count(429) >= 2
    assert next(r for r in kd if r.status_code == 429).headers["Retry-After"] == "1"
    top = [_top(sb, http).json() for _ in range(5)]
    assert any(b.get("error_response", {}).get("code") == 7 for b in top)
    sms = [_sms(sb, http, out_id=str(i)).json()["Code"] for i in range(5)]
    assert "isv.BUSINESS_LIMIT_CONTROL" in sms
    assert sb.stats.rate_limited["kuaidi100"] >= 2


def test_process_then_fail_sends_the_sms_but_the_caller_never_hears(
    sb: Sandbox, http: requests.Session
):
    sb.faults.set("sms", FaultConfig(process_then_fail_rate=1.0, timeout_seconds=0.5))
    for out_id in ("ambiguous-1", "ambiguous-2", "ambiguous-3", "ambiguous-4"):
        with pytest.raises((requests.ConnectionError, requests.ReadTimeout)):
            http.post(sb.url("sms"), data=_sms_form(out_id), timeout=(1, 0.2))
    assert [r.out_id for r in sb.sms_sent] == [f"ambiguous-{i}" for i in range(1, 5)]

    sb.faults.clear()
    date = sb.sms_sent[0].sent_at.astimezone(CHINA).strftime("%Y%m%d")
    query = {"PhoneNumber": "13912345678", "SendDate": date, "PageSize": "50", "CurrentPage": "1"}
    found = sms_call(http, sb.url("sms"), "QuerySendDetails", query).json()
    out_ids = {d["OutId"] for d in found["SmsSendDetailDTOs"]["SmsSendDetailDTO"]}
    assert out_ids == {f"ambiguous-{i}" for i in range(1, 5)}


def test_faults_are_settable_over_the_admin_api(sb: Sandbox, http: requests.Session):
    url = sb.base_url + "/_sandbox/faults"
    snapshot = http.post(url, json={"kuaidi100": {"error_rate": 1.0}}, timeout=5).json()
    assert snapshot["kuaidi100"]["error_rate"] == 1.0
    assert sb.faults.get("kuaidi100") == FaultConfig(error_rate=1.0)
    assert _kd100(sb, http).status_code >= 500
    http.post(url, json={"kuaidi100": None}, timeout=5)
    assert http.get(url, timeout=5).json()["kuaidi100"]["error_rate"] == 0.0
    bad = http.post(url, json={"kuaidi100": {"eror_rate": 1}}, timeout=5)
    assert bad.status_code == 400


def test_configs_come_from_plain_dicts_and_json():
    config = SandboxConfig.from_json(
        '{"seed": 3, "anchor": "2026-11-20T10:00:00Z", "faults": {"*": {"busy_rate": 0.5}}}'
    )
    assert config.seed == 3 and config.anchor == ANCHOR
    assert set(config.faults) == {"kuaidi100", "taobao", "sms", "dingtalk"}
    assert config.faults["sms"].busy_rate == 0.5
    with pytest.raises(ValueError):
        FaultConfig.from_dict({"error_rate": 2})
    with pytest.raises(ValueError):
        SandboxConfig.from_dict({"nope": 1})


def test_fault_draws_are_reproducible_for_a_seed():
    def pattern() -> list[str]:
        sb = Sandbox(SandboxConfig(seed=11, orders_per_shop=1, faults={"sms": {"error_rate": 0.5}}))
        return [str(sb.faults.draw("sms").fault) for _ in range(40)]

    first = pattern()
    assert first == pattern()
    assert 5 < first.count("error") < 35


def test_clock_admin_endpoint(sb: Sandbox, http: requests.Session):
    url = sb.base_url + "/_sandbox/clock"
    moved = http.post(url, json={"advance_seconds": 3600}, timeout=5).json()
    assert moved["now"] == (ANCHOR + timedelta(hours=1)).isoformat()
    back = http.post(url, json={"now": ANCHOR.isoformat()}, timeout=5).json()
    assert back["now"] == ANCHOR.isoformat() and back["ticking"] is False
    assert sb.clock.now() == ANCHOR
