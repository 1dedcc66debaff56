"""Buyers' SMS replies (上行短信): signed pushes to a webhook, retries, opt-outs to marketing."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from sandbox import (
    CREDENTIALS,
    OPT_OUT_WORDS,
    SHOPS,
    Sandbox,
    SandboxConfig,
    SimClock,
)
from sandbox.uplink import BACKOFF_SECONDS, SmsUplink
from sandbox.wire import china_time

from .signing import UPLINK_SECRET, sms_call, uplink_signature

ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
KEYS = {"phone_number", "send_time", "content", "sign_name", "dest_code", "sequence_id"}
OK = (200, json.dumps({"code": 0, "msg": "成功"}, ensure_ascii=False).encode())
PHONE = "13912345678"
MARKETING = "SMS_480900001"
NOTICE = "SMS_480900002"
TEMPLATES = """
[new_arrivals]
code = "SMS_480900001"
kind = "marketing"
text = "亲，${shop}秋冬新品上架啦，老客专享9折，回T退订"

[shipping_notice]
code = "SMS_480900002"
kind = "transactional"
text = "亲，您在${shop}的宝贝已发出~"
"""


@dataclass
class Push:
    body: bytes
    timestamp: str
    signature: str
    content_type: str
    at: float  # monotonic


class Receiver:
    """A webhook that checks each push's signature, records it and answers as scripted."""

    def __init__(self, secret: str = UPLINK_SECRET) -> None:
        self.secret = secret
        self.pushes: list[Push] = []
        self.rejected: list[Push] = []
        self.answers: list[tuple[int, bytes]] = []  # for the next pushes; then OK
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                push = Push(
                    body,
                    self.headers.get("X-Aftercare-Timestamp", ""),
                    self.headers.get("X-Aftercare-Signature", ""),
                    self.headers.get("Content-Type", ""),
                    time.monotonic(),
                )
                status, answer = receiver.answer(push)
                time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms/uplink"

    def answer(self, push: Push) -> tuple[int, bytes]:
        expected = uplink_signature(push.timestamp, push.body, secret=self.secret)
        fresh = push.timestamp.isdigit() and abs(time.time() - int(push.timestamp)) < 60
        if not (fresh and hmac.compare_digest(push.signature, expected)):
            self.rejected.append(push)
            return 401, b'{"code": 401, "msg": "bad signature"}'
        self.pushes.append(push)
        return self.answers.pop(0) if self.answers else OK

    def messages(self) -> list[dict]:
        return [m for push in self.pushes for m in json.loads(push.body)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    webhook = Receiver()
    yield webhook
    webhook.close()


@pytest.fixture
def pushing(sb: Sandbox, receiver: Receiver) -> Iterator[Sandbox]:
    """The shared sandbox pushing replies to the test's receiver."""
    sb.set_uplink_url(receiver.url)
    yield sb
    sb.deliver_pending(timeout=5)
    sb.set_uplink_url(None)
    sb.uplink.reset()


def _sandbox(tmp_path: Path, **settings: object) -> Sandbox:
    path = tmp_path / "sms.toml"
    if not path.exists():
        path.write_text(TEMPLATES, "utf-8")
    config = {
        "seed": 7,
        "orders_per_shop": 3,
        "anchor": ANCHOR,
        "clock_tick": False,
        "sms_templates_path": str(path),
        **settings,
    }
    return Sandbox(SandboxConfig.from_dict(config))


def _send(sb: Sandbox, phones: list[str], code: str, shop: str = "mumu", out_id: str = "m1"):
    params = {
        "PhoneNumbers": ",".join(phones),
        "SignName": SHOPS[shop].sign_name,
        "TemplateCode": code,
        "TemplateParam": json.dumps({"shop": SHOPS[shop].name}, ensure_ascii=False),
        "OutId": out_id,
    }
    answer = sms_call(requests.Session(), sb.url("sms"), "SendSms", params).json()
    return answer["Code"]


def test_a_reply_is_pushed_signed_in_the_smsup_shape(pushing: Sandbox, receiver: Receiver):
    now = pushing.clock.now()
    record = pushing.reply(PHONE, "退订")
    assert pushing.deliver_pending(timeout=5)
    [push] = receiver.pushes
    assert not receiver.rejected
    assert push.content_type == "application/json; charset=utf-8"
    assert "退订".encode() in push.body  # UTF-8, not \\u escapes
    assert abs(int(push.timestamp) - time.time()) < 5  # the real clock, not the simulated one
    [message] = json.loads(push.body)
    assert set(message) == KEYS
    sishi = SHOPS["sishi"]
    assert message == {
        "phone_number": PHONE,
        "send_time": china_time(now),
        "content": "退订",
        "sign_name": sishi.sign_name,
        "dest_code": sishi.sms_dest_code,
        "sequence_id": record.sequence_id,
    }
    assert isinstance(message["sequence_id"], int)
    assert pushing.uplinks == [record]
    assert record.delivered and record.done
    [attempt] = record.attempts
    assert attempt.ok and attempt.status == 200 and json.loads(attempt.response)["code"] == 0
    again = pushing.reply(PHONE, "T", sign_name=SHOPS["xiaoya"].sign_name)
    assert pushing.deliver_pending(timeout=5)
    assert again.sequence_id > record.sequence_id
    assert receiver.messages()[-1]["dest_code"] == SHOPS["xiaoya"].sms_dest_code


def test_a_failed_push_is_retried_after_a_short_pause(pushing: Sandbox, receiver: Receiver):
    receiver.answers = [(500, b"<html>oops</html>"), (200, b'{"code": 1, "msg": "busy"}')]
    record = pushing.reply(PHONE, "TD")
    assert pushing.deliver_pending(timeout=5)
    first, second, third = receiver.pushes
    assert first.body == second.body == third.body
    assert second.at - first.at >= BACKOFF_SECONDS[0] * 0.9
    assert third.at - second.at >= BACKOFF_SECONDS[1] * 0.9
    assert [(a.status, a.ok) for a in record.attempts] == [(500, False), (200, False), (200, True)]
    assert record.delivered
    assert len(receiver.messages()) == 3 and {m["sequence_id"] for m in receiver.messages()} == {
        record.sequence_id
    }


def test_a_push_is_given_up_after_three_retries(receiver: Receiver):
    assert BACKOFF_SECONDS == (0.2, 0.5, 1.0)
    uplink = SmsUplink(SimClock(ANCHOR, tick=False), url=receiver.url, backoff=(0.01,) * 3)
    try:
        receiver.answers = [(503, b"")] * 4
        failing = uplink.add(PHONE, "TD", sign_name="木木童装", dest_code="1003", at=ANCHOR)
        assert uplink.deliver_pending(timeout=5)
        assert len(receiver.pushes) == 4
        assert [a.status for a in failing.attempts] == [503] * 4
        assert failing.done and not failing.delivered
        # Nobody listening at all: no status, the error instead.
        uplink.set_url("http://127.0.0.1:9/nobody")
        unheard = uplink.add(PHONE, "T", sign_name="木木童装", dest_code="1003", at=ANCHOR)
        assert uplink.deliver_pending(timeout=10)
        assert len(unheard.attempts) == 4 and not unheard.delivered
        assert all(a.status is None and a.response for a in unheard.attempts)
        # A wrong secret is the receiver's to refuse.
        uplink.set_url(receiver.url)
        uplink.secret = "not-the-secret"
        refused = uplink.add(PHONE, "T", sign_name="木木童装", dest_code="1003", at=ANCHOR)
        assert uplink.deliver_pending(timeout=5)
        assert [a.status for a in refused.attempts] == [401] * 4 and len(receiver.rejected) == 4
    finally:
        uplink.stop()


def test_replying_never_waits_for_the_webhook(pushing: Sandbox, receiver: Receiver):
    receiver.delay = 1.0
    started = time.monotonic()
    record = pushing.reply(PHONE, "TD")
    assert time.monotonic() - started < receiver.delay  # waiting would take the whole delay
    assert not pushing.deliver_pending(timeout=0.1)  # still on its way
    assert pushing.deliver_pending(timeout=5) and record.delivered


def test_replies_wait_for_their_time_and_for_a_url(sb: Sandbox, receiver: Receiver):
    try:
        now = sb.clock.now()
        later = sb.reply(PHONE, "TD", at=now + 10 * MINUTE)
        assert sb.deliver_pending(timeout=1)  # nothing due yet
        due = sb.reply("13812345678", "T")
        assert not sb.deliver_pending(timeout=1)  # due, but nowhere to go
        assert not due.attempts
        sb.set_uplink_url(receiver.url)
        assert sb.deliver_pending(timeout=5)
        assert [m["sequence_id"] for m in receiver.messages()] == [due.sequence_id]
        assert not later.done
        sb.clock.advance(10 * MINUTE)
        assert sb.deliver_pending(timeout=5)
        assert [m["sequence_id"] for m in receiver.messages()] == [
            due.sequence_id,
            later.sequence_id,
        ]
        assert receiver.messages()[-1]["send_time"] == china_time(now + 10 * MINUTE)
    finally:
        sb.set_uplink_url(None)


def test_marketing_sms_draw_opt_out_replies_later(tmp_path: Path, receiver: Receiver):
    settings = {"sms_uplink_url": receiver.url, "opt_out_reply_rate": 1.0}
    with _sandbox(tmp_path, **settings) as sb:
        sent_at = sb.clock.now()
        assert _send(sb, [PHONE], NOTICE, out_id="n1") == "OK"
        assert sb.uplinks == []  # transactional notices draw no opt-outs
        assert _send(sb, [PHONE], MARKETING, out_id="m1") == "OK"
        [record] = sb.uplinks
        assert record.content in OPT_OUT_WORDS and record.reply_to == "m1"
        assert sent_at + MINUTE <= record.send_time <= sent_at + 30 * MINUTE
        assert (record.sign_name, record.dest_code) == ("木木童装", SHOPS["mumu"].sms_dest_code)
        assert sb.deliver_pending(timeout=2) and not receiver.pushes  # the buyer has not replied
        sb.clock.advance(30 * MINUTE)
        assert sb.deliver_pending(timeout=5)
        [message] = receiver.messages()
        assert message["content"] == record.content
        assert message["send_time"] == china_time(record.send_time)
        # A reply without a signature answers the latest SMS the phone got.
        assert sb.reply(PHONE, "好的").sign_name == "木木童装"


def test_opt_out_replies_are_seeded_per_phone_and_sms(tmp_path: Path):
    phones = [f"1380000{i:04d}" for i in range(800)]

    def replies(seed: int, out_id: str = "m1") -> list[tuple[str, str, datetime]]:
        with _sandbox(tmp_path, seed=seed) as sb:
            assert _send(sb, phones, MARKETING, out_id=out_id) == "OK"
            return [(r.phone, r.content, r.send_time) for r in sb.uplinks]

    first = replies(7)
    assert 20 <= len(first) <= 65, len(first)  # 5% of 800 is 40
    assert {content for _, content, _ in first} <= set(OPT_OUT_WORDS)
    assert len({content for _, content, _ in first}) >= 3
    assert replies(7) == first
    assert replies(8) != first
    assert replies(7, out_id="m2") != first


def test_marketing_templates_added_later_are_picked_up(tmp_path: Path):
    path = tmp_path / "sms.toml"
    notice_only = TEMPLATES[TEMPLATES.index("[shipping_notice]") :]
    path.write_text(notice_only, "utf-8")
    with _sandbox(tmp_path, opt_out_reply_rate=1.0) as sb:
        assert _send(sb, [PHONE], MARKETING) == "isv.SMS_TEMPLATE_ILLEGAL"
        path.write_text(TEMPLATES, "utf-8")
        assert _send(sb, [PHONE], MARKETING) == "OK"
        assert len(sb.uplinks) == 1


def test_reply_checks_its_input(sb: Sandbox):
    with pytest.raises(ValueError):
        sb.reply("1381234", "TD")
    with pytest.raises(ValueError):
        sb.reply(PHONE, "")
    with pytest.raises(ValueError):
        sb.reply(PHONE, "TD", sign_name="别人家")
    with pytest.raises(ValueError):
        sb.reply(PHONE, "TD", at=datetime(2026, 11, 20, 10, 0))
    assert sb.uplinks == []


def test_the_admin_api_sets_the_url_and_takes_replies(sb: Sandbox, receiver: Receiver):
    http = requests.Session()
    base = f"{sb.base_url}/_sandbox"
    try:
        answer = http.post(f"{base}/uplinks", json={"url": receiver.url}, timeout=5).json()
        assert answer == {"url": receiver.url, "count": 0, "uplinks": []}
        made = http.post(f"{base}/reply", json={"phone": PHONE, "content": "TD"}, timeout=5)
        assert made.status_code == 200 and made.json()["phone_number"] == PHONE
        assert sb.deliver_pending(timeout=5)
        listed = http.get(f"{base}/uplinks", timeout=5).json()
        assert listed["count"] == 1 and listed["uplinks"][0]["delivered"] is True
        assert listed["uplinks"][0]["attempts"][0]["status"] == 200
        bad = http.post(f"{base}/reply", json={"phone": "123", "content": "TD"}, timeout=5)
        assert bad.status_code == 400
        cleared = http.post(f"{base}/uplinks", json={"url": None}, timeout=5).json()
        assert cleared["url"] is None
    finally:
        sb.set_uplink_url(None)


def test_reset_forgets_replies_and_stop_ends_the_worker(tmp_path: Path):
    sb = _sandbox(tmp_path)
    with sb:
        sb.reply(PHONE, "TD")
        worker = sb.uplink._thread
        assert worker is not None and worker.is_alive()
        sb.reset()
        assert sb.uplinks == []
    assert not worker.is_alive()


def test_uplink_settings_and_credentials():
    config = SandboxConfig.from_dict({"sms_uplink_url": "http://x/y", "opt_out_reply_rate": 0.2})
    assert SandboxConfig.from_dict(config.to_dict()) == config
    assert SandboxConfig().sms_uplink_secret == CREDENTIALS["sms_uplink"]["secret"] == UPLINK_SECRET
    assert SandboxConfig().opt_out_reply_rate == 0.05 and SandboxConfig().sms_uplink_url is None
    for bad in ({"opt_out_reply_rate": 1.5}, {"sms_uplink_secret": ""}):
        with pytest.raises(ValueError):
            SandboxConfig.from_dict(bad)
