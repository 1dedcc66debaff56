"""Alibaba Cloud SMS over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import requests

from sandbox import Sandbox, SandboxConfig
from sandbox.wire import CHINA

from .signing import sms_call, sms_params

TEMPLATE = "SMS_480100002"  # logistics_stalled_minor: ${shop} ${courier} ${waybill}
VALUES = {"shop": "丝施品牌店", "courier": "圆通速递", "waybill": "YT1234567890123"}


def _send(sb: Sandbox, http: requests.Session, **overrides: str) -> requests.Response:
    params = {
        "PhoneNumbers": "13912345678",
        "SignName": "丝施品牌店",
        "TemplateCode": TEMPLATE,
        "TemplateParam": json.dumps(VALUES, ensure_ascii=False),
        "OutId": "trade-1:stalled_minor:1",
    }
    params.update(overrides)
    return sms_call(http, sb.url("sms"), "SendSms", params)


def test_send_is_recorded_and_found_again_by_out_id(sb: Sandbox, http: requests.Session):
    response = _send(sb, http)
    assert response.status_code == 200
    body = response.json()
    assert body["Code"] == "OK" and body["Message"] == "OK" and body["RequestId"]
    assert body["BizId"].endswith("^0")

    [record] = sb.sms_sent
    assert (record.phone, record.sign_name, record.template_code) == (
        "13912345678",
        "丝施品牌店",
        TEMPLATE,
    )
    assert record.out_id == "trade-1:stalled_minor:1" and record.biz_id == body["BizId"]
    assert record.sent_at == sb.clock.now()
    assert "（圆通速递 YT1234567890123）" in record.content and "${" not in record.content

    send_date = record.sent_at.astimezone(CHINA).strftime("%Y%m%d")
    query = {"PhoneNumber": "13912345678", "SendDate": send_date, "PageSize": "10"}
    found = sms_call(http, sb.url("sms"), "QuerySendDetails", {**query, "CurrentPage": "1"})
    details = found.json()
    assert details["Code"] == "OK" and details["TotalCount"] == 1
    [dto] = details["SmsSendDetailDTOs"]["SmsSendDetailDTO"]
    assert dto["OutId"] == record.out_id and dto["SendStatus"] == 3
    assert dto["Content"] == record.content and dto["TemplateCode"] == TEMPLATE


def test_get_with_query_string_is_accepted(sb: Sandbox, http: requests.Session):
    params = sms_params(
        "SendSms",
        {
            "PhoneNumbers": "13712345678",
            "SignName": "木木童装",
            "TemplateCode": TEMPLATE,
            "TemplateParam": json.dumps(VALUES),
        },
        http_method="GET",
    )
    assert http.get(sb.url("sms"), params=params, timeout=5).json()["Code"] == "OK"


def test_bad_signature_unknown_key_and_reused_nonce(sb: Sandbox, http: requests.Session):
    url, send = sb.url("sms"), {"PhoneNumbers": "13912345678"}
    response = http.post(url, data=sms_params("SendSms", send, secret="wrong"), timeout=5)
    assert response.status_code == 400
    assert response.json()["Code"] == "SignatureDoesNotMatch"
    assert sb.stats.rejected_signatures["sms"] == 1

    response = http.post(url, data=sms_params("SendSms", send, key_id="NOBODY"), timeout=5)
    assert (response.status_code, response.json()["Code"]) == (404, "InvalidAccessKeyId.NotFound")

    first = _send(sb, http)
    assert first.json()["Code"] == "OK"
    params = sms_params("QuerySendDetails", {"PhoneNumber": "1"}, nonce="same-nonce")
    http.post(url, data=params, timeout=5)
    again = http.post(url, data=params, timeout=5)
    assert (again.status_code, again.json()["Code"]) == (400, "SignatureNonceUsed")


def test_expired_timestamp_is_rejected(sb: Sandbox, http: requests.Session):
    stale = datetime.now(UTC) - timedelta(minutes=20)
    params = sms_params("SendSms", {"PhoneNumbers": "13912345678"}, when=stale)
    response = http.post(sb.url("sms"), data=params, timeout=5)
    assert (response.status_code, response.json()["Code"]) == (400, "InvalidTimeStamp.Expired")


def test_business_errors(sb: Sandbox, http: requests.Session):
    cases = {
        "isv.MOBILE_NUMBER_ILLEGAL": {"PhoneNumbers": "135********"},
        "isv.SMS_SIGNATURE_ILLEGAL": {"SignName": "别人家的店"},
        "isv.SMS_TEMPLATE_ILLEGAL": {"TemplateCode": "SMS_000000000"},
        "isv.TEMPLATE_MISSING_PARAMETERS": {"TemplateParam": json.dumps({"shop": "x"})},
        "isv.INVALID_JSON_PARAM": {"TemplateParam": "{not json"},
    }
    for code, override in cases.items():
        response = _send(sb, http, **override)
        assert (response.status_code, response.json()["Code"]) == (200, code), code
    numbers = json.dumps({**VALUES, "waybill": 123})
    assert _send(sb, http, TemplateParam=numbers).json()["Code"] == "isv.INVALID_JSON_PARAM"
    assert sb.sms_sent == []


def test_per_phone_flow_control_when_configured(http: requests.Session):
    config = SandboxConfig(orders_per_shop=3, sms_per_phone_per_minute=1, clock_tick=False)
    with Sandbox(config) as small:
        assert _send(small, http).json()["Code"] == "OK"
        assert _send(small, http).json()["Code"] == "isv.BUSINESS_LIMIT_CONTROL"
        small.clock.advance(timedelta(seconds=61))
        assert _send(small, http).json()["Code"] == "OK"
        assert len(small.sms_sent) == 2


def test_admin_lists_accepted_sms(sb: Sandbox, http: requests.Session):
    _send(sb, http, OutId="a")
    _send(sb, http, OutId="b", PhoneNumbers="13812345678")
    listing = http.get(sb.base_url + "/_sandbox/sms", timeout=5).json()
    assert listing["count"] == 2
    assert [item["out_id"] for item in listing["sms"]] == ["a", "b"]
    one = http.get(sb.base_url + "/_sandbox/sms", params={"out_id": "b"}, timeout=5).json()
    assert one["sms"][0]["phone"] == "13812345678"
