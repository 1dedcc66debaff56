"""Verifying signed webhook calls: HMAC in constant time, a freshness window, no replays."""

from __future__ import annotations

import hashlib
import hmac
import math

MAX_BODY_BYTES = 64 * 1024


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature of a call: hex HMAC-SHA256(secret, timestamp + "\\n" + body)."""
    message = timestamp.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check(
    *,
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    tolerance_seconds: int = 300,
) -> str | None:
    """Return why a call must be refused, or None when it is authentic and fresh."""
    if len(body) > MAX_BODY_BYTES:
        return "body too large"
    if not timestamp or not signature:
        return "missing signature headers"
    try:
        sent = float(timestamp)
    except ValueError:
        return "bad timestamp"
    if not math.isfinite(sent):  # "nan" compares as never stale: refuse it outright
        return "bad timestamp"
    if abs(now - sent) > tolerance_seconds:
        return "stale or future timestamp"
    expected = sign(secret, timestamp, body)
    given = signature.strip().lower()
    if not given.isascii() or not hmac.compare_digest(expected.encode(), given.encode()):
        return "bad signature"
    return None
