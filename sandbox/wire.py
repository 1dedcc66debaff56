"""Wire-level helpers shared by the provider handlers: requests, replies, China time."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
JSON_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class Request:
    """An HTTP request as the handlers see it: query string and form body merged."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Reply:
    """What to answer; `delay` waits first, `drop` closes the connection without a word."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """Encode `payload` as compact UTF-8 JSON (Chinese kept readable, as the providers do)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status=status, body=body, headers=dict(headers or {}))


def china_time(when: datetime) -> str:
    """Format an aware datetime as a GMT+8 `yyyy-MM-dd HH:mm:ss` string."""
    return when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def parse_china_time(text: str) -> datetime:
    """Parse a GMT+8 `yyyy-MM-dd HH:mm:ss` string into an aware UTC datetime."""
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return naive.replace(tzinfo=CHINA).astimezone(UTC)


def china_date(when: datetime) -> str:
    """Return the GMT+8 calendar date as `yyyyMMdd`."""
    return when.astimezone(CHINA).strftime("%Y%m%d")


def real_now() -> datetime:
    """Return the real wall-clock time; signatures' timestamps are checked against it."""
    return datetime.now(UTC)


def top_request_id() -> str:
    """Return a TOP-style request id (short lowercase alphanumerics)."""
    return uuid.uuid4().hex[:13]


def aliyun_request_id() -> str:
    """Return an Alibaba Cloud-style request id (upper-case UUID)."""
    return str(uuid.uuid4()).upper()
