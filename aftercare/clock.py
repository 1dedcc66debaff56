"""Time: the one place that reads the wall clock, and the providers' China-time wire format."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Kuaidi100 and TOP speak GMT+8 wall-clock strings, whatever the shop's own time zone.
CHINA = ZoneInfo("Asia/Shanghai")
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return moment in UTC; naive values are taken to be UTC already (as stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_china_time(text: str) -> datetime:
    """Parse a provider's 'yyyy-MM-dd HH:mm:ss' GMT+8 string into an aware UTC datetime."""
    text = text.strip()
    # strptime costs about 10 us and a courier answer carries dozens of scans: it was a third
    # of a parcel check's CPU. The canonical form takes the C parser; anything else keeps
    # strptime's rules and errors.
    if _CANONICAL.fullmatch(text):
        local = datetime.fromisoformat(text)
    else:
        local = datetime.strptime(text, WIRE_FORMAT)
    return local.replace(tzinfo=CHINA).astimezone(UTC)


def format_china_time(moment: datetime) -> str:
    """Format an aware datetime as the providers' GMT+8 wall-clock string."""
    return as_utc(moment).astimezone(CHINA).strftime(WIRE_FORMAT)
