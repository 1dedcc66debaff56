"""Kuaidi100 subscription pushes: signed form posts to the callback, on the simulated clock."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests

from sandbox import FaultConfig, Sandbox, SandboxConfig, ShipmentScenario
from sandbox.kuaidi100_push import BACKOFF_SECONDS

from .conftest import ANCHOR
from .signing import KD100_KEY, kd100_push_sign, kd100_query

SALT = "push-salt"
OK_BODY = {"result": True, "returnCode": "200", "message": "成功"}
OK = (200, json.dumps(OK_BODY, ensure_ascii=False).encode())
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
QUERY_KEYS = {"message", "nu", "ischeck", "condition", "com", "status", "state", "data"}
PARAM_KEYS = ["status", "billstatus", "message", "autoCheck", "comOld", "comNew", "lastResult"]


@dataclass
class Push:
    content_type: str
    fields: dict[str, list[str]]
    at: float  # monotonic

    @property
    def param_text(self) -> str:
        return self.fields["param"][0]

    @property
    def param(self) -> dict:
        return json.loads(self.param_text)


class Callback:
    """A Kuaidi100 callback that checks each push's sign, records it and answers as scripted."""

    def __init__(self, salt: str = SALT) -> None:
        self.salt = salt
        self.pushes: list[Push] = []
        self.rejected: list[Push] = []
        self.answers: list[tuple[int, bytes]] = []  # for the next pushes; then OK
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                push = Push(
                    self.headers.get("Content-Type", ""),
                    parse_qs(body.decode("utf-8"), keep_blank_values=True),
                    time.monotonic(),
                )
                status, answer = receiver.answer(push)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/kuaidi100/push"

    def answer(self, push: Push) -> tuple[int, bytes]:
        with self._lock:
            signs = push.fields.get("sign", [])
            if self.salt:
                expected = kd100_push_sign(push.param_text, self.salt)
                if not (signs and hmac.compare_digest(signs[0].upper(), expected)):
                    self.rejected.append(push)
                    return 401, b'{"result": false, "returnCode": "401", "message": "bad sign"}'
            self.pushes.append(push)
            return self.answers.pop(0) if self.answers else OK

    def of(self, waybill: str) -> list[dict]:
        return [p.param for p in self.pushes if waybill in p.param_text]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback() -> Iterator[Callback]:
    receiver = Callback()
    yield receiver
    receiver.close()


@pytest.fixture
def pushing(sb: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox; pushes are settled and forgotten afterwards."""
    backoff = sb.pusher.backoff
    yield sb
    sb.deliver_pushes(timeout=5)
    sb.pusher.backoff = backoff
    sb.reset()


def _subscribe(
    sb: Sandbox,
    com: str,
    number: str,
    url: str,
    *,
    salt: str | None = SALT,
    resultv2: str = "1",
) -> dict:
    parameters = {"callbackurl": url, "resultv2": resultv2}
    if salt is not None:
        parameters["salt"] = salt
    param = {"company": com, "number": number, "key": KD100_KEY, "parameters": parameters}
    form = {"schema": "json", "param": json.dumps(param, ensure_ascii=False)}
    return requests.post(sb.url("kuaidi100") + "/poll", data=form, timeout=5).json()


def _first(sb: Sandbox, scenario: str) -> ShipmentScenario:
    return next(sb.world.shipments_in(scenario))


def _subscribed(
    sb: Sandbox,
    shipment: ShipmentScenario,
    callback: Callback,
    *,
    salt: str | None = SALT,
    resultv2: str = "1",
) -> None:
    answer = _subscribe(
        sb, shipment.com, shipment.waybill, callback.url, salt=salt, resultv2=resultv2
    )
    assert answer == {"result": True, "returnCode": "200", "message": "提交成功"}


def test_pushes_follow_the_clock_past_new_scans_until_signed(pushing: Sandbox, callback: Callback):
    sb = pushing
    shipment = _first(sb, "in_transit")
    events = shipment.events
    seen = len(shipment.visible(ANCHOR))
    assert 0 < seen < len(events) - 1
    _subscribed(sb, shipment, callback)
    assert sb.deliver_pushes(timeout=5)
    [push] = callback.pushes
    assert push.content_type == "application/x-www-form-urlencoded; charset=utf-8"
    assert "\\u" not in push.param_text  # Chinese as UTF-8, not \\u escapes
    param = push.param
    assert list(param) == PARAM_KEYS
    assert (param["status"], param["message"], param["autoCheck"]) == ("polling", "", "0")
    assert (param["comOld"], param["comNew"]) == ("", "")
    assert param["billstatus"] in ("got", "sending")
    last = param["lastResult"]
    assert set(last) == QUERY_KEYS and len(last["data"]) == seen
    # Exactly what the real-time query answers for the waybill at the same clock.
    query = kd100_query(
        requests.Session(),
        sb.url("kuaidi100"),
        shipment.com,
        shipment.waybill,
        phone=shipment.receiver_phone,
    ).json()
    assert last == query
    assert {"areaCode", "areaName", "statusCode"} <= set(last["data"][0])

    # Nothing new on the clock: nothing pushed.
    sb.clock.set(events[seen].time - MINUTE)
    assert sb.deliver_pushes(timeout=5)
    assert len(callback.pushes) == 1
    # One scan passes: one push with the whole history, newest first.
    sb.clock.set(events[seen].time)
    assert sb.deliver_pushes(timeout=5)
    second = callback.pushes[-1].param
    assert second["status"] == "polling" and len(second["lastResult"]["data"]) == seen + 1
    assert second["lastResult"]["data"][0]["context"] == events[seen].context
    assert second["lastResult"]["data"][-1]["context"] == events[0].context
    # The rest at once, signed at the end: one shutdown push, then silence for good.
    sb.clock.set(events[-1].time + MINUTE)
    assert sb.deliver_pushes(timeout=5)
    final = callback.pushes[-1].param
    assert final["status"] == "shutdown" and final["billstatus"] == "check"
    assert final["lastResult"]["ischeck"] == "1" and final["lastResult"]["state"] == "3"
    assert len(final["lastResult"]["data"]) == len(events)
    sb.clock.advance(90 * DAY)
    assert sb.deliver_pushes(timeout=5)
    assert len(callback.pushes) == 3 and not callback.rejected

    records = sb.pushes
    assert [(r.status, r.scans) for r in records] == [
        ("polling", seen),
        ("polling", seen + 1),
        ("shutdown", len(events)),
    ]
    assert all(r.delivered and r.done and not r.given_up for r in records)
    assert [r.sent_at for r in records] == [ANCHOR, events[seen].time, events[-1].time + MINUTE]
    assert records[1].due_at == events[seen].time
    [attempt] = records[0].attempts
    assert attempt.ok and attempt.status == 200 and json.loads(attempt.response) == OK_BODY
    assert records[0].param == callback.pushes[0].param_text
    assert sb.stats.kuaidi100_pushes == {"polling": 2, "shutdown": 1}
    assert sb.stats.kuaidi100_pushes_delivered == 3 and sb.stats.kuaidi100_push_attempts == 3
    # Still monitored once signed: a second subscription is a duplicate.
    assert _subscribe(sb, shipment.com, shipment.waybill, callback.url)["returnCode"] == "501"


def test_a_parcel_signed_before_subscribing_gets_one_shutdown_push(
    pushing: Sandbox, callback: Callback
):
    shipment = _first(pushing, "returned")
    _subscribed(pushing, shipment, callback)
    assert pushing.deliver_pushes(timeout=5)
    [param] = callback.of(shipment.waybill)
    assert param["status"] == "shutdown" and param["lastResult"]["state"] == "4"
    assert param["lastResult"]["ischeck"] == "1"


def test_without_salt_or_resultv2_pushes_are_unsigned_and_plain(pushing: Sandbox):
    unsigned = Callback(salt="")
    try:
        shipment = _first(pushing, "delivered")
        _subscribed(pushing, shipment, unsigned, salt=None, resultv2="0")
        assert pushing.deliver_pushes(timeout=5)
        [push] = unsigned.pushes
        assert "sign" not in push.fields and pushing.pushes[0].sign == ""
        item = push.param["lastResult"]["data"][0]
        assert set(item) == {"time", "ftime", "context", "status"}
    finally:
        unsigned.close()


def test_no_scans_for_three_days_aborts_and_the_waybill_may_be_subscribed_again(
    pushing: Sandbox, callback: Callback
):
    sb = pushing
    shipment = _first(sb, "no_tracking")
    _subscribed(sb, shipment, callback)
    assert sb.deliver_pushes(timeout=5) and callback.pushes == []
    assert _subscribe(sb, shipment.com, shipment.waybill, callback.url)["returnCode"] == "501"
    sb.clock.set(ANCHOR + 3 * DAY - MINUTE)
    assert sb.deliver_pushes(timeout=5) and callback.pushes == []
    sb.clock.set(ANCHOR + 3 * DAY + MINUTE)
    assert sb.deliver_pushes(timeout=5)
    [param] = callback.of(shipment.waybill)
    assert (param["status"], param["message"]) == ("abort", "3天查询无记录")
    assert param["billstatus"] == ""
    last = param["lastResult"]
    assert last["data"] == [] and last["nu"] == shipment.waybill and last["ischeck"] == "0"
    [record] = sb.pushes
    assert record.due_at == ANCHOR + 3 * DAY and record.scans == 0
    # Monitoring stopped: nothing more, until the waybill is subscribed again.
    sb.clock.advance(10 * DAY)
    assert sb.deliver_pushes(timeout=5) and len(callback.pushes) == 1
    resubscribed = sb.clock.now() + 30 * MINUTE
    sb.clock.set(resubscribed)
    _subscribed(sb, shipment, callback)
    assert sb.subscriptions[-1].subscribed_at == resubscribed
    assert _subscribe(sb, shipment.com, shipment.waybill, callback.url)["returnCode"] == "501"
    sb.clock.set(resubscribed + 3 * DAY)
    assert sb.deliver_pushes(timeout=5)
    assert [p["status"] for p in callback.of(shipment.waybill)] == ["abort", "abort"]


def test_unknown_waybills_abort_too(pushing: Sandbox, callback: Callback):
    assert _subscribe(pushing, "yunda", "4300000000001", callback.url)["returnCode"] == "200"
    pushing.clock.advance(4 * DAY)
    assert pushing.deliver_pushes(timeout=5)
    [param] = callback.of("4300000000001")
    assert param["status"] == "abort" and param["lastResult"]["com"] == "yunda"


def test_sixty_days_without_a_new_scan_aborts(pushing: Sandbox, callback: Callback):
    sb = pushing
    shipment = _first(sb, "stalled_serious")
    history = shipment.visible(ANCHOR)
    _subscribed(sb, shipment, callback)
    assert sb.deliver_pushes(timeout=5)
    sb.clock.set(ANCHOR + 60 * DAY - MINUTE)
    assert sb.deliver_pushes(timeout=5)
    assert [p["status"] for p in callback.of(shipment.waybill)] == ["polling"]
    sb.clock.set(ANCHOR + 60 * DAY + MINUTE)
    assert sb.deliver_pushes(timeout=5)
    first, abort = callback.of(shipment.waybill)
    assert (abort["status"], abort["message"]) == ("abort", "60天无变化")
    assert abort["lastResult"] == first["lastResult"]
    assert len(abort["lastResult"]["data"]) == len(history)
    assert sb.kuaidi100.is_aborted(shipment.com, shipment.waybill)
    # Re-subscribed, Kuaidi100 starts over: the whole history again.
    _subscribed(sb, shipment, callback)
    assert sb.deliver_pushes(timeout=5)
    again = callback.of(shipment.waybill)[-1]
    assert again["status"] == "polling" and again["lastResult"] == first["lastResult"]


def test_a_failed_push_is_retried_after_a_pause(pushing: Sandbox, callback: Callback):
    assert BACKOFF_SECONDS == (0.2, 0.5, 1.0)
    callback.answers = [(500, b"<html>oops</html>"), (200, b'{"result": false}')]
    shipment = _first(pushing, "delivered")
    _subscribed(pushing, shipment, callback)
    assert pushing.deliver_pushes(timeout=5)
    first, second, third = callback.pushes
    assert first.fields == second.fields == third.fields  # the same signed body each time
    assert second.at - first.at >= 0.2 * 0.9
    assert third.at - second.at >= 0.5 * 0.9
    [record] = pushing.pushes
    assert [(a.status, a.ok) for a in record.attempts] == [(500, False), (200, False), (200, True)]
    assert record.delivered and pushing.stats.kuaidi100_push_attempts == 3


def test_a_push_is_given_up_after_three_retries(pushing: Sandbox, callback: Callback):
    pushing.pusher.backoff = (0.01, 0.01, 0.01)
    not_quite = json.dumps({"result": True, "returnCode": 200, "message": "成功"}).encode()
    callback.answers = [(503, b""), (200, not_quite), (200, b"ok"), (404, b"")]
    delivered, unheard = list(pushing.world.shipments_in("delivered"))[:2]
    _subscribed(pushing, delivered, callback)
    _subscribe(pushing, unheard.com, unheard.waybill, "http://127.0.0.1:9/nobody", salt=SALT)
    assert pushing.deliver_pushes(timeout=10)
    by_waybill = {r.waybill: r for r in pushing.pushes}
    given_up, unanswered = by_waybill[delivered.waybill], by_waybill[unheard.waybill]
    assert len(callback.pushes) == 4
    assert [a.status for a in given_up.attempts] == [503, 200, 200, 404]
    assert given_up.done and given_up.given_up and not given_up.delivered
    assert len(unanswered.attempts) == 4 and unanswered.given_up
    assert all(a.status is None and a.response for a in unanswered.attempts)
    assert pushing.stats.kuaidi100_pushes_given_up == 2
    # Given up for good: no more attempts, and nothing new to push.
    assert pushing.deliver_pushes(timeout=5) and len(callback.pushes) == 4


def test_a_slow_callback_times_out(pushing: Sandbox):
    pushing.pusher.backoff = ()
    timeout = pushing.pusher.timeout
    pushing.pusher.timeout = 0.2
    slow = Callback()
    original = slow.answer

    def sleepy(push: Push) -> tuple[int, bytes]:
        time.sleep(0.6)
        return original(push)

    slow.answer = sleepy  # type: ignore[method-assign]
    try:
        _subscribed(pushing, _first(pushing, "delivered"), slow)
        assert pushing.deliver_pushes(timeout=5)
        [record] = pushing.pushes
        [attempt] = record.attempts
        assert attempt.status is None and "timed out" in attempt.response.lower()
        assert record.given_up
    finally:
        pushing.pusher.timeout = timeout
        slow.close()


def test_malformed_waybills_push_broken_bodies(pushing: Sandbox, callback: Callback):
    broken = list(pushing.world.shipments_in("malformed"))
    assert len(broken) >= 3
    for shipment in broken:
        _subscribed(pushing, shipment, callback)
    assert pushing.deliver_pushes(timeout=5)
    assert len(callback.pushes) == len(broken) and not callback.rejected  # signed all the same
    defects = set()
    for push in callback.pushes:
        try:
            last = push.param["lastResult"]
        except ValueError:
            defects.add("truncated")
            continue
        if not isinstance(last["data"], list):
            defects.add("data_not_list")
        elif last["state"] == "在途":
            defects.add("bad_state")
        else:
            assert "年" in last["data"][0]["time"]
            defects.add("bad_time")
    assert len(defects) >= 2
    assert {r.malformed for r in pushing.pushes} == defects
    assert pushing.stats.kuaidi100_pushes_malformed == len(broken)


def test_unknown_couriers_cannot_be_subscribed(pushing: Sandbox, callback: Callback):
    unknown = _first(pushing, "unknown_courier")
    assert _subscribe(pushing, unknown.com, unknown.waybill, callback.url)["returnCode"] == "702"
    bad = _subscribe(pushing, "yuantong", "YT1", "ftp://example.com/cb")
    assert bad["returnCode"] == "700"
    assert pushing.subscriptions == []


def test_push_faults_drop_duplicate_and_break(pushing: Sandbox, callback: Callback):
    sb = pushing
    sb.pusher.backoff = (0.01, 0.01, 0.01)
    shipments = list(sb.world.shipments_in("delivered"))
    # "*" is about the providers answering requests, not pushes.
    sb.faults.set("*", FaultConfig(drop_rate=1.0))
    assert sb.faults.get("kuaidi100_push") == FaultConfig()
    sb.faults.clear()
    _subscribed(sb, shipments[0], callback)
    assert sb.deliver_pushes(timeout=5) and len(callback.pushes) == 1
    # Dropped: never sent, retried, then given up.
    sb.faults.set("kuaidi100_push", FaultConfig(drop_rate=1.0))
    _subscribed(sb, shipments[1], callback)
    assert sb.deliver_pushes(timeout=5) and len(callback.pushes) == 1
    dropped = sb.pushes[-1]
    assert [(a.status, a.fault) for a in dropped.attempts] == [(None, "drop")] * 4
    assert sb.stats.faults_by_provider["kuaidi100_push"]["drop"] == 4
    # Processed then failed: the callback gets the same push again and again.
    sb.faults.set("kuaidi100_push", FaultConfig(process_then_fail_rate=1.0))
    _subscribed(sb, shipments[2], callback)
    assert sb.deliver_pushes(timeout=5)
    assert len(callback.of(shipments[2].waybill)) == 4 and sb.pushes[-1].given_up
    # Malformed: a broken (but signed) body this time.
    sb.faults.set("kuaidi100_push", FaultConfig(malformed_rate=1.0))
    callback.answers = [(400, b"{}")]
    _subscribed(sb, shipments[3], callback)
    assert sb.deliver_pushes(timeout=5)
    record = sb.pushes[-1]
    assert [a.fault for a in record.attempts] == ["malformed", "malformed"]
    assert record.delivered and not callback.rejected
    assert all(p.param_text != record.param for p in callback.pushes[-2:])
    # Latency: each attempt waits first.
    sb.faults.set("kuaidi100_push", FaultConfig(latency_ms=150))
    _subscribed(sb, shipments[4], callback)
    started = time.monotonic()
    assert sb.deliver_pushes(timeout=5)
    assert time.monotonic() - started >= 0.14 and sb.pushes[-1].delivered


def test_push_burst_measures_acknowledgements(pushing: Sandbox, callback: Callback):
    sb = pushing
    with pytest.raises(ValueError):
        sb.push_burst(5)  # no subscription to take the callback URL from
    _subscribed(sb, _first(sb, "in_transit"), callback)
    assert sb.deliver_pushes(timeout=5)
    callback.pushes.clear()
    result = sb.push_burst(300, concurrency=8)
    assert (result.n, result.concurrency, result.url) == (300, 8, callback.url)
    assert len(result.latencies) == 300 and all(0 < s < 5 for s in result.latencies)
    assert result.acknowledged == 300 and result.statuses == {"200": 300}
    assert result.elapsed > 0 and result.pushes_per_second > 0
    assert 0 < result.p50 <= result.p99 <= max(result.latencies)
    assert len(callback.pushes) == 300 and not callback.rejected  # signed with its salt
    waybills = {p.param["lastResult"]["nu"] for p in callback.pushes}
    assert len(waybills) > 100  # cycling through the shipped waybills
    assert all(p.param["status"] in ("polling", "shutdown") for p in callback.pushes)
    assert sb.pushes[1:] == [] and sb.stats.kuaidi100_burst_pushes == 300
    # Refusals are counted, not raised; a wrong salt is the callback's to refuse.
    refused = sb.push_burst(20, url=callback.url, salt="wrong", concurrency=4)
    assert refused.acknowledged == 0 and refused.statuses == {"401": 20}
    nobody = sb.push_burst(3, url="http://127.0.0.1:9/nobody", concurrency=2)
    assert nobody.statuses == {"error": 3} and nobody.errors
    assert nobody.to_dict()["acknowledged"] == 0


def test_the_admin_api_lists_settles_and_bursts(pushing: Sandbox, callback: Callback):
    http = requests.Session()
    base = f"{pushing.base_url}/_sandbox"
    shipment = _first(pushing, "delivered")
    _subscribed(pushing, shipment, callback)
    settled = http.post(f"{base}/deliver_pushes", json={"timeout": 5}, timeout=10).json()
    assert settled == {"done": True, "count": 1}
    listed = http.get(f"{base}/pushes", params={"waybill": shipment.waybill}, timeout=5).json()
    assert listed["count"] == 1 and listed["pushes"][0]["status"] == "shutdown"
    assert listed["pushes"][0]["attempts"][0]["ok"] is True
    burst = http.post(f"{base}/push_burst", json={"n": 10, "concurrency": 2}, timeout=10).json()
    assert burst["acknowledged"] == 10 and len(burst["latencies"]) == 10
    faults = http.post(f"{base}/faults", json={"kuaidi100_push": {"drop_rate": 0.5}}, timeout=5)
    assert faults.json()["kuaidi100_push"]["drop_rate"] == 0.5
    stats = http.get(f"{base}/stats", timeout=5).json()
    assert stats["kuaidi100_pushes"] == {"shutdown": 1} and stats["kuaidi100_burst_pushes"] == 10
    assert http.get(f"{base}/push_burst", timeout=5).status_code == 400


def test_reset_forgets_pushes_and_stop_ends_the_workers(callback: Callback):
    anchor = datetime(2026, 11, 20, 10, tzinfo=UTC)
    with Sandbox(SandboxConfig(seed=3, orders_per_shop=20, anchor=anchor, clock_tick=False)) as sb:
        shipment = next(s for s in sb.world.shipments.values() if s.visible(anchor))
        _subscribed(sb, shipment, callback)
        assert sb.deliver_pushes(timeout=5) and len(sb.pushes) == 1
        workers = list(sb.pusher._threads)
        assert workers and all(t.is_alive() for t in workers)
        sb.reset()
        assert sb.pushes == [] and sb.subscriptions == []
        _subscribed(sb, shipment, callback)  # forgotten, so no duplicate
    assert not any(t.is_alive() for t in workers)


def test_push_settings():
    config = SandboxConfig.from_dict(
        {
            "kuaidi100_push_timeout": 20,
            "kuaidi100_push_backoff": [1, 5],
            "kuaidi100_push_workers": 2,
            "faults": {"kuaidi100_push": {"latency_ms": 5}},
        }
    )
    assert config.kuaidi100_push_backoff == (1.0, 5.0)
    assert SandboxConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    default = SandboxConfig()
    assert default.kuaidi100_push_timeout == 5.0
    assert default.kuaidi100_push_backoff == BACKOFF_SECONDS
    assert "kuaidi100_push" not in SandboxConfig.from_dict({"faults": {"*": {}}}).faults
    for bad in (
        {"kuaidi100_push_timeout": 0},
        {"kuaidi100_push_backoff": [-1]},
        {"kuaidi100_push_workers": 0},
        {"faults": {"kuaidi100_pusher": {}}},
    ):
        with pytest.raises(ValueError):
            SandboxConfig.from_dict(bad)


def test_a_stale_push_comes_again_after_a_newer_one(pushing: Sandbox, callback: Callback):
    sb = pushing
    sb.faults.set("kuaidi100_push", FaultConfig(stale_rate=1.0))
    shipment = _first(sb, "in_transit")
    events = shipment.events
    seen = len(shipment.visible(ANCHOR))
    _subscribed(sb, shipment, callback)
    assert sb.deliver_pushes(timeout=5)
    assert len(callback.pushes) == 1, "nothing earlier to repeat yet"
    sb.clock.set(events[seen].time)
    assert sb.deliver_pushes(timeout=5)
    sb.clock.set(events[-1].time + MINUTE)
    assert sb.deliver_pushes(timeout=5)
    sizes = [(p.param["status"], len(p.param["lastResult"]["data"])) for p in callback.pushes]
    # Each newer push is followed by the one before it, exactly as it was signed then.
    assert sizes == [
        ("polling", seen),
        ("polling", seen + 1),
        ("polling", seen),
        ("shutdown", len(events)),
        ("polling", seen + 1),
    ]
    assert callback.pushes[2].fields == callback.pushes[0].fields and not callback.rejected
    assert [r.stale for r in sb.pushes] == [False, False, True, False, True]
    assert sb.stats.faults_by_provider["kuaidi100_push"]["stale"] == 2
    sb.faults.clear()
