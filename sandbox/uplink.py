"""Buyers' replies to SMS (上行短信), pushed to the project's webhook like Alibaba Cloud's SmsUp.

Wire contract. Alibaba Cloud pushes SmsUp messages unsigned, in HTTP batches; the project puts
a signing gateway in front of its webhook, and this is that gateway's documented contract:

    POST <sms_uplink_url>
    Content-Type: application/json; charset=utf-8
    X-Aftercare-Timestamp: 1795226700
    X-Aftercare-Signature: 5f1c...e0 (64 lowercase hex digits)

    [{"phone_number": "13800138000", "send_time": "2026-11-20 10:05:00", "content": "TD",
      "sign_name": "丝施品牌店", "dest_code": "1001", "sequence_id": 7000001}]

- The body is a JSON array of one or more replies (UTF-8, Chinese unescaped). `send_time` is
  when the buyer replied, on the simulated clock, `yyyy-MM-dd HH:mm:ss` GMT+8; `sign_name` is
  the signature of the SMS answered and `dest_code` its extension code; `sequence_id` is an
  integer unique per reply (the same reply keeps it on every retry).
- `X-Aftercare-Timestamp` is the real wall-clock time of the attempt in unix seconds, and
  `X-Aftercare-Signature` is lowercase hex HMAC-SHA256(key=secret,
  msg=timestamp + "\\n" + raw body bytes); the secret is `sandbox-uplink-secret` unless
  configured otherwise (`CREDENTIALS["sms_uplink"]["secret"]`).
- The receiver answers HTTP 200 with the JSON `{"code": 0, "msg": "成功"}`. Anything else (another
  status or body, a refused connection, no answer within 2 s) fails the attempt; a failed
  push is tried again after 0.2 s, 0.5 s and 1 s of real time, freshly timestamped and signed
  over the same body, and then given up. Replies are pushed once the simulated clock reaches
  their send_time, from a background thread, oldest first.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from .clock import SimClock
from .shops import CREDENTIALS, mask_phone
from .wire import china_time, real_now

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Aftercare-Timestamp"
SIGNATURE_HEADER = "X-Aftercare-Signature"
DEFAULT_SECRET: str = CREDENTIALS["sms_uplink"]["secret"]
BACKOFF_SECONDS = (0.2, 0.5, 1.0)
TIMEOUT_SECONDS = 2.0
BATCH_SIZE = 100
# How often the worker looks at the simulated clock for replies that came due.
POLL_SECONDS = 0.1


def uplink_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return lowercase hex HMAC-SHA256(secret, timestamp + "\\n" + body)."""
    message = timestamp.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class UplinkAttempt(NamedTuple):
    """One push of a batch: when (real time) and what came back."""

    at: datetime
    status: int | None  # HTTP status; None when no answer came
    response: str  # the answer's body (cut to 500 characters), or the error
    ok: bool


@dataclass(eq=False)
class UplinkRecord:
    """One buyer reply; `delivered` and `attempts` are filled in by the delivery thread."""

    phone: str
    content: str
    sign_name: str
    dest_code: str
    sequence_id: int
    send_time: datetime  # simulated, aware UTC
    reply_to: str = ""  # OutId of the SMS answered, when the reply was the buyer's own idea
    # How the gateway writes the number (+86 138-..., full-width digits); the phone if "".
    written_as: str = ""
    delivered: bool = False
    done: bool = False  # delivered, or given up after the last retry
    attempts: list[UplinkAttempt] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        """Return the reply as one element of the pushed JSON array."""
        return {
            "phone_number": self.written_as or self.phone,
            "send_time": china_time(self.send_time),
            "content": self.content,
            "sign_name": self.sign_name,
            "dest_code": self.dest_code,
            "sequence_id": self.sequence_id,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready plain data, attempts included."""
        return {
            **self.wire(),
            "reply_to": self.reply_to,
            "delivered": self.delivered,
            "done": self.done,
            "attempts": [
                {"at": a.at.isoformat(), "status": a.status, "response": a.response, "ok": a.ok}
                for a in self.attempts
            ],
        }


class SmsUplink:
    """Queue buyers' replies and push them, signed, to the configured URL in the background."""

    def __init__(
        self,
        clock: SimClock,
        *,
        url: str | None = None,
        secret: str = DEFAULT_SECRET,
        seed: int = 0,
        backoff: tuple[float, ...] = BACKOFF_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.clock = clock
        self.url = url
        self.secret = secret
        self.backoff = backoff
        self.timeout = timeout
        self._cond = threading.Condition()
        self._records: list[UplinkRecord] = []
        self._pending: list[UplinkRecord] = []
        self._in_flight = 0
        self._next_sequence = (seed % 10**6) * 10**6 + 1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def records(self) -> list[UplinkRecord]:
        """Return every reply so far, in the order they were made."""
        with self._cond:
            return list(self._records)

    def set_url(self, url: str | None) -> None:
        """Push to `url` from now on (None: keep replies queued)."""
        with self._cond:
            self.url = url
            self._cond.notify_all()

    def add(
        self,
        phone: str,
        content: str,
        *,
        sign_name: str,
        dest_code: str,
        at: datetime,
        reply_to: str = "",
        written_as: str = "",
    ) -> UplinkRecord:
        """Queue one reply made at `at` (simulated) and return its record."""
        with self._cond:
            record = UplinkRecord(
                phone=phone,
                content=content,
                sign_name=sign_name,
                dest_code=dest_code,
                sequence_id=self._next_sequence,
                send_time=at.replace(microsecond=0),
                reply_to=reply_to,
                written_as=written_as,
            )
            self._next_sequence += 1
            self._records.append(record)
            bisect.insort(self._pending, record, key=_due_order)
            self._start_locked()
            self._cond.notify_all()
        log.debug("buyer %s replies %r at %s", mask_phone(phone), content, record.send_time)
        return record

    def deliver_pending(self, timeout: float = 10.0) -> bool:
        """Wait until every reply due at the simulated clock is pushed or given up.

        Returns False when that did not happen within `timeout` real seconds, or when due
        replies wait because no URL is set.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._pending:
                self._start_locked()
            self._cond.notify_all()  # let the worker look at the clock now
            while True:
                now = self.clock.now()
                due = any(r.send_time <= now for r in self._pending)
                if not self._in_flight and (not due or self.url is None):
                    return not due
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, POLL_SECONDS))

    def reset(self) -> None:
        """Forget every reply (a push under way still finishes)."""
        with self._cond:
            self._records.clear()
            self._pending.clear()

    def stop(self) -> None:
        """Stop the delivery thread (queued replies stay queued)."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout=5)

    # -- the delivery thread ---------------------------------------------------------------

    def _start_locked(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="sandbox-sms-uplink", daemon=True
        )
        self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._cond:
                batch, url = self._take_due(), self.url
                if not batch:
                    # Replies queued wait for the simulated clock, which moves without a word.
                    self._cond.wait(POLL_SECONDS if self._pending else None)
                    continue
                self._in_flight += len(batch)
            try:
                assert url is not None
                self._push(url, batch, stop)
            finally:
                with self._cond:
                    self._in_flight -= len(batch)
                    self._cond.notify_all()

    def _take_due(self) -> list[UplinkRecord]:
        """Pop up to a batch of replies due at the clock (lock held)."""
        if self.url is None or not self._pending:
            return []
        now = self.clock.now()
        count = 0
        while count < min(BATCH_SIZE, len(self._pending)):
            if self._pending[count].send_time > now:
                break
            count += 1
        batch, self._pending[:count] = self._pending[:count], []
        return batch

    def _push(self, url: str, batch: list[UplinkRecord], stop: threading.Event) -> None:
        body = json.dumps(
            [r.wire() for r in batch], ensure_ascii=False, separators=(",", ":")
        ).encode()
        delays = (0.0, *self.backoff)
        for number, delay in enumerate(delays):
            if delay and stop.wait(delay):
                break
            attempt = self._attempt(url, body)
            for record in batch:
                record.attempts.append(attempt)
            if attempt.ok:
                for record in batch:
                    record.delivered = True
                break
            log.info(
                "sms uplink push %d/%d failed: %s %s",
                number + 1,
                len(delays),
                attempt.status,
                attempt.response[:100],
            )
        for record in batch:
            record.done = True

    def _attempt(self, url: str, body: bytes) -> UplinkAttempt:
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: uplink_signature(self.secret, timestamp, body),
            },
        )
        at = real_now()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace") if error.fp else ""
            return UplinkAttempt(at, error.code, text[:500], ok=False)
        except (OSError, ValueError) as error:  # refused, reset, timed out, bad URL
            return UplinkAttempt(at, None, f"{type(error).__name__}: {error}"[:500], ok=False)
        return UplinkAttempt(at, status, text[:500], ok=status == 200 and _acknowledged(text))


def _due_order(record: UplinkRecord) -> tuple[datetime, int]:
    return record.send_time, record.sequence_id


def _acknowledged(text: str) -> bool:
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    code = answer.get("code") if isinstance(answer, dict) else None
    return type(code) is int and code == 0
