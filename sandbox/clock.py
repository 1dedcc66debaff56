"""Simulated business clock shared by the world, the providers and the tests."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


def _real_now() -> datetime:
    return datetime.now(UTC)


class SimClock:
    """Aware UTC clock that ticks with real time from a settable origin, or stays frozen."""

    def __init__(self, start: datetime | None = None, *, tick: bool = True) -> None:
        self._lock = threading.Lock()
        self._tick = tick
        start = _require_aware(start) if start is not None else _real_now()
        # Ticking: now = start + elapsed monotonic time, so wall-clock jumps never leak in.
        self._origin = start
        self._origin_mono = time.monotonic()

    @property
    def ticking(self) -> bool:
        """Tell whether the clock advances with real time."""
        return self._tick

    def now(self) -> datetime:
        """Return the current simulated time (aware, UTC)."""
        with self._lock:
            return self._now_locked()

    def set(self, when: datetime) -> None:
        """Jump to `when`, keeping the ticking/frozen mode."""
        when = _require_aware(when)
        with self._lock:
            self._origin = when.astimezone(UTC)
            self._origin_mono = time.monotonic()

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock by `delta` and return the new time."""
        with self._lock:
            self._origin = self._now_locked() + delta
            self._origin_mono = time.monotonic()
            return self._origin

    def freeze(self) -> None:
        """Stop the clock where it is."""
        with self._lock:
            self._origin = self._now_locked()
            self._origin_mono = time.monotonic()
            self._tick = False

    def resume(self) -> None:
        """Let the clock tick with real time again from where it is."""
        with self._lock:
            self._origin = self._now_locked()
            self._origin_mono = time.monotonic()
            self._tick = True

    def _now_locked(self) -> datetime:
        if not self._tick:
            return self._origin
        return self._origin + timedelta(seconds=time.monotonic() - self._origin_mono)


def _require_aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("sandbox clock needs a timezone-aware datetime")
    return when.astimezone(UTC)
