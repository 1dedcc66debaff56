"""The DingTalk-style group robot over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from sandbox import CREDENTIALS, FaultConfig, Sandbox

from .conftest import ANCHOR
from .signing import ROBOT_SECRET, ROBOT_TOKEN, robot_query, robot_send

TEXT = {
    "msgtype": "text",
    "text": {"content": "【中差评】丝施品牌店 新增差评 1 条，请在 24 小时内跟进"},
}
MARKDOWN = {
    "msgtype": "markdown",
    "markdown": {"title": "中差评日报", "text": "### 中差评日报\n- 丝施品牌店：差评 1，中评 2"},
    "at": {"atMobiles": ["13800000001"], "isAtAll": False},
}


def test_url_and_credentials(sb: Sandbox):
    assert sb.url("dingtalk") == sb.base_url + "/dingtalk/robot/send"
    assert CREDENTIALS["dingtalk"] == {"access_token": ROBOT_TOKEN, "secret": ROBOT_SECRET}


def test_signed_text_and_markdown_are_accepted_and_recorded(sb: Sandbox, http: requests.Session):
    for body in (TEXT, MARKDOWN):
        response = robot_send(http, sb.url("dingtalk"), body)
        assert response.status_code == 200
        assert response.json() == {"errcode": 0, "errmsg": "ok"}
    text, markdown = sb.robot_messages
    assert (text.msgtype, text.text, text.title) == ("text", TEXT["text"]["content"], None)
    assert (markdown.msgtype, markdown.title) == ("markdown", "中差评日报")
    assert markdown.text.startswith("### 中差评日报") and markdown.at_mobiles == ("13800000001",)
    assert text.sent_at == sb.clock.now() == ANCHOR
    assert sb.stats.robot_messages == 2
    listing = http.get(sb.base_url + "/_sandbox/robot", timeout=5).json()
    assert listing["count"] == 2 and listing["messages"][1]["title"] == "中差评日报"


def test_bad_token_sign_or_timestamp_are_refused(sb: Sandbox, http: requests.Session):
    url = sb.url("dingtalk")
    cases = [
        ({"token": "nobody"}, 300001),
        ({"secret": "SECwrong"}, 310000),
        ({"when": datetime.now(UTC) - timedelta(hours=2)}, 310000),
        ({"when": datetime.now(UTC) + timedelta(hours=2)}, 310000),
    ]
    for kwargs, errcode in cases:
        assert robot_send(http, url, TEXT, **kwargs).json()["errcode"] == errcode, kwargs
    unsigned = http.post(f"{url}?access_token={ROBOT_TOKEN}", json=TEXT, timeout=5).json()
    assert unsigned["errcode"] == 310000
    # A base64 sign sent without URL-encoding loses its '+' on the way: refused too.
    now = datetime.now(UTC)
    raw = next(
        q
        for ms in range(1000)
        if "+" in (q := robot_query(when=now - timedelta(milliseconds=ms)).replace("%2B", "+"))
    )
    assert http.post(f"{url}?{raw}", json=TEXT, timeout=5).json()["errcode"] == 310000
    assert robot_send(http, url, TEXT, when=datetime.now(UTC) - timedelta(minutes=50)).ok
    assert len(sb.robot_messages) == 1
    assert sb.stats.rejected_signatures["dingtalk"] >= 2


def test_malformed_messages_are_refused(sb: Sandbox, http: requests.Session):
    url = sb.url("dingtalk")
    bad = [
        ({"msgtype": "text", "text": {}}, 40035),
        ({"msgtype": "markdown", "markdown": {"text": "no title"}}, 40035),
        ({"text": {"content": "x"}}, 40035),
        ({"msgtype": "voice", "voice": {}}, 40008),
    ]
    for body, errcode in bad:
        assert robot_send(http, url, body).json()["errcode"] == errcode, body
    garbage = http.post(
        f"{url}?{robot_query()}",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert garbage.json()["errcode"] == 40035
    assert sb.robot_messages == []


def test_more_than_20_messages_a_simulated_minute_is_too_fast(sb: Sandbox, http: requests.Session):
    url = sb.url("dingtalk")
    answers = [robot_send(http, url, TEXT).json()["errcode"] for _ in range(21)]
    assert answers == [0] * 20 + [130101]
    sb.clock.advance(timedelta(seconds=59))
    assert robot_send(http, url, TEXT).json()["errcode"] == 130101
    sb.clock.advance(timedelta(seconds=1))
    assert robot_send(http, url, TEXT).json()["errcode"] == 0
    assert len(sb.robot_messages) == 21


def test_faults_apply_to_the_robot(sb: Sandbox, http: requests.Session):
    sb.faults.set("dingtalk", FaultConfig(error_rate=1.0))
    assert robot_send(http, sb.url("dingtalk"), TEXT).status_code in (500, 502, 503)
    sb.faults.set("dingtalk", FaultConfig(busy_rate=1.0))
    assert robot_send(http, sb.url("dingtalk"), TEXT).json()["errcode"] == 130101
    sb.faults.set("dingtalk", FaultConfig(platform_error_rate=1.0))
    assert robot_send(http, sb.url("dingtalk"), TEXT).json()["errcode"] == -1
    assert sb.robot_messages == []
    assert sb.stats.faults_by_provider["dingtalk"] == {"error": 1, "busy": 1, "platform_error": 1}
