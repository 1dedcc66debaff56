"""A DingTalk-style custom group robot (自定义机器人) for staff alerts, signed with HMAC-SHA256."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .clock import SimClock
from .shops import CREDENTIALS
from .stats import SandboxStats
from .wire import Reply, Request, json_reply, real_now

# errcodes as the robot API answers them (HTTP 200, JSON body).
OK = (0, "ok")
TOKEN_NOT_EXIST = (300001, "token is not exist")
SIGN_NOT_MATCH = (310000, "sign not match")
STALE_TIMESTAMP = (310000, "invalid timestamp")
SEND_TOO_FAST = (130101, "send too fast, exceed 20 times per minute")
MISSING_JSON = (40035, "缺少参数 json")
BAD_MSGTYPE = (40008, "不合法的消息类型")
TOO_LONG = (460101, "message too long, exceed 20000 bytes")
SYSTEM_BUSY = (-1, "系统繁忙")
MUST_POST = (43002, "需要POST请求")
MAX_BODY_BYTES = 20000


@dataclass(frozen=True)
class RobotMessage:
    """One message the robot accepted (sent_at on the simulated clock)."""

    access_token: str
    msgtype: str
    text: str
    title: str | None
    sent_at: datetime
    at_mobiles: tuple[str, ...] = ()
    at_all: bool = False
    body: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready plain data."""
        return {
            "access_token": self.access_token,
            "msgtype": self.msgtype,
            "title": self.title,
            "text": self.text,
            "sent_at": self.sent_at.isoformat(),
            "at_mobiles": list(self.at_mobiles),
            "at_all": self.at_all,
        }


def robot_sign(timestamp: str, secret: str) -> str:
    """Return base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")) (the caller URL-encodes it)."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _answer(error: tuple[int, str]) -> Reply:
    code, message = error
    return json_reply({"errcode": code, "errmsg": message})


class DingTalkRobot:
    """Handle `POST /dingtalk/robot/send?access_token=...&timestamp=...&sign=...`.

    The per-robot limit counts accepted messages over a sliding minute of the simulated
    clock, like the SMS flow control: tests move the clock instead of sleeping.
    """

    name = "dingtalk"

    def __init__(
        self,
        clock: SimClock,
        stats: SandboxStats,
        *,
        per_minute: int | None = 20,
        skew_minutes: float = 60,
    ) -> None:
        self.clock = clock
        self.stats = stats
        self.per_minute = per_minute
        self.max_skew = timedelta(minutes=skew_minutes)
        credentials = CREDENTIALS["dingtalk"]
        self._secrets: dict[str, str] = {credentials["access_token"]: credentials["secret"]}
        self._guard = threading.Lock()
        self._messages: list[RobotMessage] = []
        self._recent: dict[str, deque[datetime]] = defaultdict(deque)

    @property
    def messages(self) -> list[RobotMessage]:
        """Return the accepted messages, oldest first."""
        with self._guard:
            return list(self._messages)

    def reset(self) -> None:
        """Forget accepted messages and the per-minute windows."""
        with self._guard:
            self._messages.clear()
            self._recent.clear()

    def handle(self, request: Request) -> Reply:
        """Authenticate, validate and record one robot message."""
        if request.method != "POST":
            return _answer(MUST_POST)
        params = request.params
        token = params.get("access_token", "")
        secret = self._secrets.get(token)
        if secret is None:
            return _answer(TOKEN_NOT_EXIST)
        refused = self._check_signature(params, secret)
        if refused is not None:
            return refused
        if len(request.body) > MAX_BODY_BYTES:
            return _answer(TOO_LONG)
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return _answer(MISSING_JSON)
        message = _message(token, body, self.clock.now())
        if isinstance(message, tuple):
            return _answer(message)
        with self._guard:
            recent = self._recent[token]
            while recent and message.sent_at - recent[0] >= timedelta(minutes=1):
                recent.popleft()
            if self.per_minute is not None and len(recent) >= self.per_minute:
                self.stats.count_rate_limited(self.name)
                return _answer(SEND_TOO_FAST)
            recent.append(message.sent_at)
            self._messages.append(message)
        self.stats.count_robot_message()
        return _answer(OK)

    def _check_signature(self, params: dict[str, str], secret: str) -> Reply | None:
        stamp, sign = params.get("timestamp", ""), params.get("sign", "")
        if not stamp or not sign:
            self.stats.count_rejected_signature(self.name)
            return _answer(SIGN_NOT_MATCH)
        expected = robot_sign(stamp, secret)
        if not hmac.compare_digest(sign.encode(), expected.encode()):
            self.stats.count_rejected_signature(self.name)
            return _answer(SIGN_NOT_MATCH)
        try:
            sent = datetime.fromtimestamp(int(stamp) / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            return _answer(STALE_TIMESTAMP)
        # Judged on the real wall clock, like the other providers' timestamps.
        if abs(real_now() - sent) > self.max_skew:
            return _answer(STALE_TIMESTAMP)
        return None

    def busy(self, request: Request) -> Reply:
        """Answer the robot's flow control."""
        return _answer(SEND_TOO_FAST)

    rate_limited = busy

    def platform_error(self, request: Request) -> Reply:
        """Answer a platform-side fault (nothing was posted)."""
        return _answer(SYSTEM_BUSY)

    def sample_body(self, request: Request) -> dict[str, Any]:
        """Return a plausible success body, for truncation by the malformed fault."""
        return {"errcode": 0, "errmsg": "ok"}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _message(token: str, body: Any, now: datetime) -> RobotMessage | tuple[int, str]:
    """Turn a request body into a message, or the errcode that refuses it."""
    if not isinstance(body, dict) or not body.get("msgtype"):
        return MISSING_JSON
    msgtype = body["msgtype"]
    part = _object(body.get(msgtype))
    at = _object(body.get("at"))
    mobiles = tuple(str(m) for m in at.get("atMobiles") or ())
    at_all = bool(at.get("isAtAll"))
    if msgtype == "text":
        content = part.get("content")
        if not isinstance(content, str) or not content:
            return MISSING_JSON
        return RobotMessage(token, msgtype, content, None, now, mobiles, at_all, body)
    if msgtype == "markdown":
        title, text = part.get("title"), part.get("text")
        if not isinstance(title, str) or not title or not isinstance(text, str) or not text:
            return MISSING_JSON
        return RobotMessage(token, msgtype, text, title, now, mobiles, at_all, body)
    return BAD_MSGTYPE
