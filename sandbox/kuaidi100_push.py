"""Kuaidi100 subscription pushes: tracking updates POSTed to each subscription's callback URL.

Wire contract of Kuaidi100 subscription pushes, as the sandbox speaks it:

    POST <callbackurl>
    Content-Type: application/x-www-form-urlencoded; charset=utf-8

    param=<url-encoded JSON>&sign=<32 upper-case hex digits>

- `param` is compact UTF-8 JSON (Chinese unescaped) with, in this order, `status`
  ("polling", "shutdown" or "abort"; the sandbox never sends "updateall"), `billstatus`
  ("got" after the pickup scan, "check" once signed or returned-signed, "sending" otherwise,
  "" without scans; Kuaidi100 calls it deprecated), `message` ("" for polling and shutdown,
  "3天查询无记录" or "60天无变化" for abort), `autoCheck` "0", `comOld` "", `comNew` "", and
  `lastResult`: exactly the real-time query's success body for the waybill at the push
  (`message` "ok", `nu`, `ischeck`, `condition` "F00", `com`, `status` "200", `state`,
  `data[]` newest first with `time`, `ftime`, `context`, `status`, plus `areaCode`,
  `areaName`, `statusCode` when the subscription asked `resultv2`). An abort of a waybill
  without any scan carries `{"message": "查询无结果，请隔段时间再查", "nu", "ischeck": "0",
  "condition": "", "com", "status": "500", "state": "", "data": []}` (unconfirmed shape).
- `sign` is upper-case hex MD5(param + salt) over the exact `param` text; without a salt in
  the subscription the field is left out.
- The callback answers HTTP 200 with the JSON object `{"result": true, "returnCode": "200",
  "message": "成功"}` (`result` must be true and `returnCode` the string "200"; the message is
  not checked). Anything else - another status or body, no answer within the timeout (5 s
  here, 20 s at Kuaidi100), a refused or broken connection - fails the attempt; the same body
  is posted again after 0.2 s, 0.5 s and 1 s of real time, then the push is given up.

When pushes are made, on the simulated clock. A subscription is monitored from the moment it
is accepted; a worker looks at the clock (every 0.1 s, and whenever `deliver` is called):
- when the clock has passed one or more scans not pushed yet, one push carries the whole
  history visible at the clock: "shutdown" when the newest scan is signed (state 3) or
  returned-signed (4) - monitoring ends there - else "polling";
- a waybill without any scan 3 days after subscribing gets "abort" / "3天查询无记录"; one whose
  newest scan (or the subscription, if later) is 60 days old gets "abort" / "60天无变化".
  Monitoring ends; Kuaidi100 expects the waybill subscribed again (30 minutes later), and
  the sandbox accepts that re-subscription instead of answering 501;
- pushes of one waybill go out one at a time, in order: the next waits until the previous
  one is acknowledged or given up (a given-up push's scans are not pushed again, but every
  later push carries the whole history);
- waybills of the "malformed" scenario get a broken push every time, cycling through four
  defects: `param` cut short (still signed), `data` not a list, `state` "在途" (not a number),
  and times
  in Chinese wording. Unknown-courier waybills cannot be subscribed (702).

Faults. The fault injector's "kuaidi100_push" settings apply to each attempt: `latency_ms`
waits before posting; `malformed_rate` posts a broken body (one of the four defects) this
time; `process_then_fail_rate` posts and then ignores the acknowledgement, so the same push
arrives again on the next retry (a duplicate delivery); every other fault kind (`drop_rate`,
`error_rate`, `busy_rate`, `timeout_rate`, bursts, `max_rps` ...) means the attempt is not
sent at all and counts as failed, to be retried after the back-off. `stale_rate` is drawn
after a push is acknowledged: the waybill's previous acknowledged push is posted once more
(Kuaidi100 retrying an old one late), so an older history arrives after a newer one; such a
copy is a record with `stale` set, tried once, and holds no later push back. "*" does not
include "kuaidi100_push".
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import http.client
import itertools
import json
import logging
import math
import socket
import ssl
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from .clock import SimClock
from .faults import Fault, FaultInjector
from .kuaidi100 import Subscription, query_body
from .shipment import ShipmentScenario
from .stats import SandboxStats
from .timeline import TrackEvent
from .wire import real_now
from .world import World

log = logging.getLogger(__name__)

PROVIDER = "kuaidi100_push"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
ACKNOWLEDGEMENT: dict[str, Any] = {"result": True, "returnCode": "200", "message": "成功"}
BACKOFF_SECONDS = (0.2, 0.5, 1.0)
TIMEOUT_SECONDS = 5.0
WORKERS = 4
# How often idle workers look at the simulated clock for pushes that came due.
POLL_SECONDS = 0.1

NO_RECORD_AFTER = timedelta(days=3)
NO_CHANGE_AFTER = timedelta(days=60)
NO_RECORD = "3天查询无记录"
NO_CHANGE = "60天无变化"
FINAL_STATES = frozenset({3, 4})  # signed, returned-signed: Kuaidi100 shuts monitoring down
MALFORMED_DEFECTS = ("truncated", "data_not_list", "bad_state", "bad_time")


def push_sign(param: str, salt: str) -> str:
    """Return upper-case hex MD5(param + salt), the push's `sign`."""
    return hashlib.md5((param + salt).encode("utf-8")).hexdigest().upper()


def push_form(param: str, salt: str) -> bytes:
    """Return the form body: `param`, and `sign` when there is a salt."""
    fields = [("param", param)]
    if salt:
        fields.append(("sign", push_sign(param, salt)))
    return urlencode(fields).encode("ascii")


def last_result(
    com: str, number: str, events: tuple[TrackEvent, ...], *, resultv2: str
) -> dict[str, Any]:
    """Return a push's `lastResult`: the query's success body, or the no-record shape."""
    if events:
        return query_body(com, number, events, resultv2=resultv2, order="desc")
    return {
        "message": "查询无结果，请隔段时间再查",
        "nu": number,
        "ischeck": "0",
        "condition": "",
        "com": com,
        "status": "500",
        "state": "",
        "data": [],
    }


def push_param(status: str, message: str, result: dict[str, Any]) -> dict[str, Any]:
    """Return the push's `param` object around one `lastResult`."""
    return {
        "status": status,
        "billstatus": _billstatus(result),
        "message": message,
        "autoCheck": "0",
        "comOld": "",
        "comNew": "",
        "lastResult": result,
    }


def encode_param(param: dict[str, Any]) -> str:
    """Encode `param` as compact JSON, Chinese unescaped."""
    return json.dumps(param, ensure_ascii=False, separators=(",", ":"))


def broken_param(param: dict[str, Any], defect: str) -> str:
    """Return `param` encoded with one of MALFORMED_DEFECTS."""
    if defect == "truncated":
        text = encode_param(param)
        return text[: len(text) * 3 // 5]
    broken = json.loads(encode_param(param))  # a deep copy
    result = broken["lastResult"]
    if defect == "data_not_list":
        result["data"] = {"item": result["data"]}
    elif defect == "bad_state":
        result["state"] = "在途"  # a state must be a number
    elif defect == "bad_time":
        for item in result["data"]:
            item["time"] = item["ftime"] = "2026年11月20日 上午10:04"
    else:
        raise ValueError(f"unknown defect {defect!r}; expected one of {MALFORMED_DEFECTS}")
    return encode_param(broken)


def _billstatus(result: dict[str, Any]) -> str:
    data = result.get("data")
    if not data:
        return ""
    state = str(result.get("state"))
    if state in ("3", "4"):
        return "check"
    return "got" if state == "1" else "sending"


def acknowledged(status: int | None, text: str) -> bool:
    """Tell whether a callback's answer acknowledges the push."""
    if status != 200:
        return False
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(answer, dict)
        and answer.get("result") is True
        and answer.get("returnCode") == "200"
    )


class PushAttempt(NamedTuple):
    """One attempt at posting a push: when (real time) and what came back."""

    at: datetime
    status: int | None  # HTTP status; None when no answer came (or nothing was sent)
    response: str  # the answer's body (cut to 500 characters), or the error
    ok: bool  # the answer acknowledged the push
    fault: str = ""  # the injected "kuaidi100_push" fault, if any


@dataclass(eq=False)
class PushRecord:
    """One push of a subscribed waybill; `attempts`, `delivered`, `done` fill in as it goes."""

    waybill: str
    com: str
    status: str  # polling | shutdown | abort
    message: str
    callbackurl: str
    param: str  # the `param` text as posted (broken for malformed-scenario waybills)
    sign: str  # "" when the subscription gave no salt
    scans: int  # scans in lastResult
    due_at: datetime  # simulated: the first new scan, or the abort deadline
    sent_at: datetime  # simulated: the clock when the sandbox made the push
    malformed: str = ""  # which of MALFORMED_DEFECTS the push carries ("" when none)
    stale: bool = False  # a late copy of an earlier push (the `stale_rate` fault)
    delivered: bool = False
    done: bool = False  # delivered, or given up after the last retry
    attempts: list[PushAttempt] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        """Return the form body posted."""
        fields = [("param", self.param)]
        if self.sign:
            fields.append(("sign", self.sign))
        return urlencode(fields).encode("ascii")

    @property
    def given_up(self) -> bool:
        """Tell whether every attempt failed."""
        return self.done and not self.delivered

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready plain data, attempts included."""
        return {
            "waybill": self.waybill,
            "com": self.com,
            "status": self.status,
            "message": self.message,
            "callbackurl": self.callbackurl,
            "param": self.param,
            "sign": self.sign,
            "scans": self.scans,
            "due_at": self.due_at.isoformat(),
            "sent_at": self.sent_at.isoformat(),
            "malformed": self.malformed,
            "stale": self.stale,
            "delivered": self.delivered,
            "done": self.done,
            "attempts": [
                {
                    "at": a.at.isoformat(),
                    "status": a.status,
                    "response": a.response,
                    "ok": a.ok,
                    "fault": a.fault,
                }
                for a in self.attempts
            ],
        }


@dataclass(eq=False)
class _Watch:
    """Kuaidi100 monitoring one subscription: how far it pushed, whether it ended."""

    subscription: Subscription
    events: tuple[TrackEvent, ...]
    times: list[datetime]
    covered: int = 0  # scans pushed (or given up) so far
    ended: str = ""  # "shutdown" or "abort" once monitoring stopped
    busy: bool = False  # a push is under way
    pushes: int = 0
    acknowledged: PushRecord | None = None  # the latest push acknowledged
    due: datetime | None = None  # when the heap expects it next
    generation: int = 0  # the pusher's reset count when the watch began

    @property
    def key(self) -> tuple[str, str]:
        return self.subscription.company, self.subscription.number

    def deadline(self) -> datetime:
        """Return when monitoring aborts unless a new scan comes first."""
        start = self.subscription.subscribed_at
        if not self.covered:
            return start + NO_RECORD_AFTER
        return max(self.events[self.covered - 1].time, start) + NO_CHANGE_AFTER

    def next_due(self) -> datetime | None:
        """Return when the next push (new scans or abort) falls due, None once ended."""
        if self.ended:
            return None
        deadline = self.deadline()
        if self.covered < len(self.events):
            return min(self.events[self.covered].time, deadline)
        return deadline


class _Connection:
    """One HTTP(S) connection to a callback URL, kept alive between posts when allowed."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.port = parts.port
        self.https = parts.scheme == "https"
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes, *, keep_alive: bool = True) -> tuple[int, bytes]:
        """POST a form body and return the status and answer."""
        headers = {"Content-Type": FORM_TYPE, "Accept": "application/json"}
        if not keep_alive:
            headers["Connection"] = "close"
        for _ in range(2):
            reused = self._conn is not None
            conn = self._conn or self._open()
            self._conn = conn
            try:
                conn.request("POST", self.target, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused:  # the callback closed an idle keep-alive connection: reconnect once
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if response.will_close or not keep_alive:
                self.close()
            return response.status, data
        raise ConnectionError("connection closed twice")  # pragma: no cover - loop returns

    def close(self) -> None:
        """Close the connection, if open."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _open(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self.https:
            context = ssl.create_default_context()
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn.connect()
        # http.client writes headers and body separately: without this, Nagle's algorithm
        # and the callback's delayed ACK stall every keep-alive post by ~40 ms.
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn


def _post_once(url: str, body: bytes, timeout: float) -> tuple[int | None, str]:
    """POST on a fresh connection; return the status (None without an answer) and text."""
    try:
        connection = _Connection(url, timeout)
        status, data = connection.post(body, keep_alive=False)
    except (OSError, ValueError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    return status, data.decode("utf-8", "replace")[:500]


class Kuaidi100Pusher:
    """Monitor subscriptions on the simulated clock and push their updates in the background."""

    def __init__(
        self,
        world: World,
        clock: SimClock,
        stats: SandboxStats,
        faults: FaultInjector,
        *,
        timeout: float = TIMEOUT_SECONDS,
        backoff: tuple[float, ...] = BACKOFF_SECONDS,
        workers: int = WORKERS,
    ) -> None:
        self.world = world
        self.clock = clock
        self.stats = stats
        self.faults = faults
        self.timeout = timeout
        self.backoff = backoff
        self.workers = workers
        # Called with (company, number) when monitoring aborts (Kuaidi100 then takes a
        # re-subscription).
        self.on_abort: Callable[[str, str], None] | None = None
        self._cond = threading.Condition()
        self._watches: dict[tuple[str, str], _Watch] = {}
        self._due: list[tuple[datetime, int, _Watch]] = []  # heap on the simulated clock
        self._ready: deque[tuple[PushRecord, _Watch]] = deque()
        self._waiting: list[tuple[float, int, PushRecord, _Watch]] = []  # heap, monotonic
        self._running = 0
        self._records: list[PushRecord] = []
        self._malformed_pushes: Counter[str] = Counter()
        self._sequence = itertools.count()
        self._generation = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def records(self) -> list[PushRecord]:
        """Return every push made so far, oldest first."""
        with self._cond:
            return list(self._records)

    def watch(self, subscription: Subscription) -> None:
        """Start monitoring an accepted subscription (replacing an aborted one)."""
        shipment = self.world.tracked_shipment(subscription.company, subscription.number)
        events = shipment.events if shipment is not None else ()
        watch = _Watch(subscription, events, [e.time for e in events])
        with self._cond:
            watch.generation = self._generation
            if shipment is not None and shipment.scenario == "malformed":
                self._malformed_pushes.setdefault(subscription.number, 0)
            self._watches[watch.key] = watch
            self._schedule_locked(watch)
            self._start_locked()
            self._cond.notify_all()

    def deliver(self, timeout: float = 10.0) -> bool:
        """Wait until every push due at the simulated clock is acknowledged or given up.

        Returns False when that did not happen within `timeout` real seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._watches or self._outstanding_locked():
                self._start_locked()
            while True:
                self._pump_locked()
                if not self._outstanding_locked():
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, POLL_SECONDS))

    def reset(self) -> None:
        """Forget subscriptions and pushes (an attempt under way still finishes)."""
        with self._cond:
            self._generation += 1
            self._watches.clear()
            self._due.clear()
            self._ready.clear()
            self._waiting.clear()
            self._records.clear()
            self._malformed_pushes.clear()
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop the workers (pushes not yet made stay due)."""
        with self._cond:
            threads, self._threads = self._threads, []
            self._stop.set()
            self._cond.notify_all()
        for thread in threads:
            thread.join(timeout=5)

    # -- scheduling (lock held) --------------------------------------------------------------

    def _schedule_locked(self, watch: _Watch) -> None:
        watch.due = watch.next_due()
        if watch.due is not None:
            heapq.heappush(self._due, (watch.due, next(self._sequence), watch))

    def _outstanding_locked(self) -> int:
        return len(self._ready) + len(self._waiting) + self._running

    def _pump_locked(self) -> None:
        """Make the pushes due at the clock and release the retries whose pause is over."""
        now = self.clock.now()
        added = False
        while self._due and self._due[0][0] <= now:
            due, _, watch = heapq.heappop(self._due)
            if watch.busy or watch.due != due or self._watches.get(watch.key) is not watch:
                continue  # superseded entry
            record = self._make_locked(watch, now)
            self._ready.append((record, watch))
            added = True
        mono = time.monotonic()
        while self._waiting and self._waiting[0][0] <= mono:
            _, _, record, watch = heapq.heappop(self._waiting)
            self._ready.append((record, watch))
            added = True
        if added:
            self._cond.notify_all()

    def _idle_wait_locked(self) -> float | None:
        waits = [POLL_SECONDS] if self._due else []
        if self._waiting:
            waits.append(max(0.0, self._waiting[0][0] - time.monotonic()))
        return min(waits) if waits else None

    def _make_locked(self, watch: _Watch, now: datetime) -> PushRecord:
        """Turn a due watch into a push record (new scans, shutdown or abort)."""
        sub = watch.subscription
        deadline = watch.deadline()
        upcoming = watch.events[watch.covered].time if watch.covered < len(watch.events) else None
        if upcoming is not None and upcoming <= deadline:
            watch.covered = bisect.bisect_right(watch.times, now)
            final = watch.events[watch.covered - 1].state in FINAL_STATES
            status, message, due_at = ("shutdown" if final else "polling"), "", upcoming
            if final:
                watch.ended = "shutdown"
        else:
            status, due_at = "abort", deadline
            message = NO_CHANGE if watch.covered else NO_RECORD
            watch.ended = "abort"
            if self.on_abort is not None:
                self.on_abort(sub.company, sub.number)
        shown = watch.events[: watch.covered]
        param = push_param(
            status, message, last_result(sub.company, sub.number, shown, resultv2=sub.resultv2)
        )
        defect = ""
        if sub.number in self._malformed_pushes:
            turn = zlib.crc32(sub.number.encode()) + self._malformed_pushes[sub.number]
            self._malformed_pushes[sub.number] += 1
            defect = MALFORMED_DEFECTS[turn % len(MALFORMED_DEFECTS)]
        text = broken_param(param, defect) if defect else encode_param(param)
        record = PushRecord(
            waybill=sub.number,
            com=sub.company,
            status=status,
            message=message,
            callbackurl=sub.callbackurl,
            param=text,
            sign=push_sign(text, sub.salt) if sub.salt else "",
            scans=len(shown),
            due_at=due_at,
            sent_at=now,
            malformed=defect,
        )
        watch.busy = True
        watch.pushes += 1
        self._records.append(record)
        self.stats.count_push(status, malformed=bool(defect))
        log.debug("kuaidi100 push %s %s %s (%d scans)", status, sub.company, sub.number, len(shown))
        return record

    def _finish_locked(self, record: PushRecord, watch: _Watch, attempt: PushAttempt) -> None:
        record.attempts.append(attempt)
        if watch.generation != self._generation or record.stale:  # no retries, nothing next
            record.delivered, record.done = attempt.ok, True
            return
        if attempt.ok:
            record.delivered = record.done = True
            self._maybe_repeat_locked(watch, record)
        elif len(record.attempts) <= len(self.backoff):
            pause = self.backoff[len(record.attempts) - 1]
            entry = (time.monotonic() + pause, next(self._sequence), record, watch)
            heapq.heappush(self._waiting, entry)
            return
        else:
            record.done = True
            log.info(
                "kuaidi100 push %s %s to %s given up after %d attempts: %s %s",
                record.status,
                record.waybill,
                record.callbackurl,
                len(record.attempts),
                attempt.status,
                attempt.response[:100],
            )
        self.stats.count_push_outcome(delivered=record.delivered)
        watch.busy = False
        if self._watches.get(watch.key) is watch:
            self._schedule_locked(watch)

    def _maybe_repeat_locked(self, watch: _Watch, record: PushRecord) -> None:
        """Post the waybill's previous push again after this one, when the fault says so."""
        earlier, watch.acknowledged = watch.acknowledged, record
        if earlier is None or not self.faults.chance(PROVIDER, "stale_rate"):
            return
        copy = replace(
            earlier, sent_at=self.clock.now(), stale=True, delivered=False, done=False, attempts=[]
        )
        self._records.append(copy)
        self.stats.count_fault(PROVIDER, "stale")
        self._ready.append((copy, watch))

    # -- the workers -------------------------------------------------------------------------

    def _start_locked(self) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        if self._threads:
            return
        self._stop = threading.Event()
        for number in range(self.workers):
            thread = threading.Thread(
                target=self._run,
                args=(self._stop,),
                name=f"sandbox-kuaidi100-push-{number}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def _run(self, stop: threading.Event) -> None:
        while True:
            with self._cond:
                while True:
                    if stop.is_set():
                        return
                    self._pump_locked()
                    if self._ready:
                        record, watch = self._ready.popleft()
                        self._running += 1
                        break
                    self._cond.wait(self._idle_wait_locked())
            try:
                attempt = self._attempt(record, watch.subscription.salt, stop)
            except Exception as error:  # never lose a worker to one push
                log.exception("kuaidi100 push attempt failed")
                attempt = PushAttempt(real_now(), None, f"{type(error).__name__}: {error}", False)
            with self._cond:
                self._running -= 1
                self._finish_locked(record, watch, attempt)
                self._cond.notify_all()

    def _attempt(self, record: PushRecord, salt: str, stop: threading.Event) -> PushAttempt:
        self.stats.count_push_attempt()
        decision = self.faults.draw(PROVIDER)
        fault = decision.fault
        if decision.config.latency_ms:
            stop.wait(decision.config.latency_ms / 1000)
        body = record.body
        if fault is not None:
            self.stats.count_fault(PROVIDER, fault.value)
            if fault is Fault.MALFORMED:
                turn = int(decision.detail * len(MALFORMED_DEFECTS)) % len(MALFORMED_DEFECTS)
                body = _rebreak(record, salt, MALFORMED_DEFECTS[turn])
            elif fault is not Fault.PROCESS_THEN_FAIL:
                text = f"not sent ({fault.value} fault)"
                return PushAttempt(real_now(), None, text, False, fault.value)
        at = real_now()
        status, text = _post_once(record.callbackurl, body, self.timeout)
        ok = acknowledged(status, text)
        if fault is Fault.PROCESS_THEN_FAIL:
            ok = False  # sent, and answered, but taken as unanswered: it comes again
        if not ok:
            log.debug("kuaidi100 push %s attempt failed: %s %s", record.waybill, status, text[:100])
        return PushAttempt(at, status, text, ok, fault.value if fault is not None else "")


def _rebreak(record: PushRecord, salt: str, defect: str) -> bytes:
    """Return the record's body with `defect`, signed (as it is, if its param is no JSON)."""
    try:
        param = json.loads(record.param)
    except ValueError:
        return record.body
    return push_form(broken_param(param, defect), salt)


# -- benchmark bursts --------------------------------------------------------------------------


@dataclass(frozen=True)
class BurstResult:
    """What a burst of pushes measured: per-push latencies and how the callback answered."""

    url: str
    n: int
    concurrency: int
    elapsed: float  # real seconds from the first post to the last answer
    latencies: tuple[float, ...]  # per push, in push order: seconds until answer or error
    acked: tuple[bool, ...]  # per push: answered with the acknowledgement
    statuses: dict[str, int]  # HTTP status ("200", "500" ...) or "error": how many pushes
    errors: tuple[str, ...] = ()  # the first few errors (no HTTP answer)

    @property
    def acknowledged(self) -> int:
        """Return how many pushes were acknowledged."""
        return sum(self.acked)

    @property
    def pushes_per_second(self) -> float:
        """Return acknowledged pushes per real second."""
        return self.acknowledged / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Return the q-th percentile (0-100, nearest rank) of the latencies, in seconds."""
        if not 0 <= q <= 100:
            raise ValueError("q must be within [0, 100]")
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]

    @property
    def p50(self) -> float:
        """Return the median latency in seconds."""
        return self.percentile(50)

    @property
    def p99(self) -> float:
        """Return the 99th percentile latency in seconds."""
        return self.percentile(99)

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready plain data with the summary figures."""
        return {
            "url": self.url,
            "n": self.n,
            "concurrency": self.concurrency,
            "elapsed": self.elapsed,
            "acknowledged": self.acknowledged,
            "pushes_per_second": self.pushes_per_second,
            "p50": self.p50,
            "p99": self.p99,
            "statuses": dict(self.statuses),
            "errors": list(self.errors),
            "latencies": list(self.latencies),
            "acked": list(self.acked),
        }


def burst_bodies(
    shipments: Iterable[ShipmentScenario], now: datetime, count: int, salt: str
) -> list[bytes]:
    """Return up to `count` push bodies, one per shipment with scans at `now`, in order."""
    bodies: list[bytes] = []
    for shipment in shipments:
        if len(bodies) >= count:
            break
        events = shipment.visible(now)
        if not events:
            continue
        status = "shutdown" if events[-1].state in FINAL_STATES else "polling"
        result = last_result(shipment.com, shipment.waybill, events, resultv2="1")
        bodies.append(push_form(encode_param(push_param(status, "", result)), salt))
    return bodies


def post_burst(
    url: str, bodies: list[bytes], n: int, *, concurrency: int, timeout: float
) -> BurstResult:
    """Post n bodies (cycling through `bodies`) from `concurrency` keep-alive connections."""
    if n < 0 or concurrency < 1:
        raise ValueError("n must not be negative and concurrency must be at least 1")
    if n and not bodies:
        raise ValueError("nothing to push: no shipment has scans at the clock")
    _Connection(url, timeout)  # refuse a bad URL before starting threads
    latencies = [0.0] * n
    acked = [False] * n
    statuses = [""] * n
    errors: list[str] = []
    lock = threading.Lock()
    counter = itertools.count()

    def run() -> None:
        connection = _Connection(url, timeout)
        try:
            while True:
                with lock:
                    i = next(counter)
                if i >= n:
                    return
                started = time.perf_counter()
                try:
                    status, data = connection.post(bodies[i % len(bodies)])
                except (OSError, http.client.HTTPException) as error:
                    latencies[i] = time.perf_counter() - started
                    statuses[i] = "error"
                    with lock:
                        if len(errors) < 10:
                            errors.append(f"{type(error).__name__}: {error}"[:200])
                    continue
                latencies[i] = time.perf_counter() - started
                statuses[i] = str(status)
                acked[i] = acknowledged(status, data.decode("utf-8", "replace"))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, name=f"sandbox-kuaidi100-burst-{k}", daemon=True)
        for k in range(min(concurrency, max(n, 1)))
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return BurstResult(
        url=url,
        n=n,
        concurrency=concurrency,
        elapsed=elapsed,
        latencies=tuple(latencies),
        acked=tuple(acked),
        statuses=dict(Counter(statuses)),
        errors=tuple(errors),
    )
