"""TOP wire pieces shared by the gateway's methods: errors, signing and parameter parsing."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from .wire import Reply, json_reply, parse_china_time, top_request_id


class TopError(Exception):
    """A TOP `error_response`, raised inside handlers and rendered once."""

    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(f"{code} {msg} {sub_code}")
        self.code = code
        self.msg = msg
        self.sub_code = sub_code
        self.sub_msg = sub_msg

    def reply(self) -> Reply:
        """Render as TOP does: HTTP 200 with an error_response envelope."""
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.sub_code:
            body["sub_code"] = self.sub_code
        if self.sub_msg:
            body["sub_msg"] = self.sub_msg
        body["request_id"] = top_request_id()
        return json_reply({"error_response": body})


def top_sign(params: dict[str, str], secret: str, method: str) -> str:
    """Compute the TOP signature of `params` (everything but `sign`)."""
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign")
    if method == "hmac":
        return hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest().upper()
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


def missing(name: str) -> TopError:
    """Return the error for a missing required parameter (code 40)."""
    return TopError(
        40, f"Missing required arguments:{name}", "isv.missing-parameter", f"{name}不能为空"
    )


def invalid(name: str, why: str) -> TopError:
    """Return the error for a malformed or out-of-range parameter (code 41)."""
    return TopError(41, f"Invalid arguments:{name}", "isv.invalid-parameter", why)


def time_param(params: dict[str, str], name: str) -> datetime:
    """Parse a required GMT+8 `yyyy-MM-dd HH:mm:ss` parameter."""
    value = optional_time_param(params, name)
    if value is None:
        raise missing(name)
    return value


def optional_time_param(params: dict[str, str], name: str) -> datetime | None:
    """Parse an optional GMT+8 `yyyy-MM-dd HH:mm:ss` parameter."""
    raw = params.get(name, "")
    if not raw:
        return None
    try:
        return parse_china_time(raw)
    except ValueError:
        raise invalid(name, f"{name}格式必须为yyyy-MM-dd HH:mm:ss") from None


def int_param(params: dict[str, str], name: str, *, default: int, low: int, high: int) -> int:
    """Parse an optional integer parameter within [low, high]."""
    raw = params.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"{name}必须是整数") from None
    if not low <= value <= high:
        raise invalid(name, f"{name}必须在{low}到{high}之间")
    return value


def id_param(params: dict[str, str], name: str) -> int:
    """Parse a required numeric id (tid, oid)."""
    raw = params.get(name, "")
    if not raw:
        raise missing(name)
    try:
        return int(raw)
    except ValueError:
        raise invalid(name, f"{name}必须是数字") from None


def flag_param(params: dict[str, str], name: str) -> bool:
    """Parse an optional boolean parameter ("true"/"false")."""
    return params.get(name, "false").lower() == "true"


def fields_param(params: dict[str, str]) -> frozenset[str] | None:
    """Return the requested `fields`, or None for all."""
    raw = params.get("fields", "")
    return frozenset(f.strip() for f in raw.split(",") if f.strip()) or None
