"""Time: the one place that reads the wall clock, and the providers' China-time wire format."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Kuaidi100 and TOP speak GMT+8 wall-clock strings, whatever the shop's own time zone.
CHINA = ZoneInfo("Asia/Shanghai")
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


# A simulation (the sandbox's business clock in tests) may stand in for the world's time.
_world: Callable[[], datetime] | None = None


def pin_world_clock(source: Callable[[], datetime] | None) -> None:
    """Let `source` tell the world's time (a simulation or test); None returns to the wall."""
    global _world
    _world = source


def world_now(simulated: datetime | None = None) -> datetime:
    """Return the world's time now: the pinned clock, else `simulated`, else the wall clock."""
    if _world is not None:
        return as_utc(_world())
    return as_utc(simulated) if simulated is not None else utcnow()


class SendingClock:
    """When a message actually leaves: never earlier than the world's time.

    A run's `as_of` is its business time; a replay of a past day still texts people today, so
    quiet hours are judged on the later of the run's own ticking clock and the world's.
    """

    def __init__(self, as_of: datetime, simulated: datetime | None = None) -> None:
        self.as_of = as_utc(as_of)
        self.simulated = simulated
        self._started = time.monotonic()

    def world(self) -> datetime:
        """Return the world's time now (what the provider's clock says)."""
        return world_now(self.simulated)

    def now(self) -> datetime:
        """Return the moment a message sent now leaves."""
        run = self.as_of + timedelta(seconds=time.monotonic() - self._started)
        return max(run, self.world())


def as_utc(moment: datetime) -> datetime:
    """Return moment in UTC; naive values are taken to be UTC already (as stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def shop_time(moment: datetime, zone: str = "Asia/Shanghai") -> datetime:
    """Read a time a person or a schedule gave: naive values are the shop's wall clock.

    One rule for every input (--as-of, --next-contact, a recovery window, a UI form); only
    values read back from the database are naive UTC (see as_utc).
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return moment.astimezone(UTC)


def local_day_start(
    moment: datetime | date, zone: str | ZoneInfo = CHINA, days: int = 0
) -> datetime:
    """Midnight starting moment's day in the shop's zone, `days` days later (negative: earlier).

    A date is taken as that day in the zone; the result is aware, in the zone (so .date() is
    the shop's day).
    """
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    day = moment.astimezone(tz).date() if isinstance(moment, datetime) else moment
    return datetime.combine(day + timedelta(days=days), datetime.min.time(), tzinfo=tz)


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
