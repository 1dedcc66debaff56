"""Quiet hours: when in a shop's local day a customer may be messaged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class SendWindow:
    """The daily window, local to the shop, in which messages may go out."""

    start: time
    end: time
    zone: ZoneInfo

    def contains(self, moment: datetime) -> bool:
        """Tell whether a moment falls inside the window."""
        local = moment.astimezone(self.zone).time()
        return self.start <= local < self.end

    def next_open(self, moment: datetime) -> datetime:
        """Return when the window next opens at or after moment (moment itself if open)."""
        if self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        opening = datetime.combine(local.date(), self.start, tzinfo=self.zone)
        if local.time() >= self.start:  # after today's close
            opening = datetime.combine(
                local.date() + timedelta(days=1), self.start, tzinfo=self.zone
            )
        return opening.astimezone(moment.tzinfo)


@dataclass(frozen=True, slots=True)
class Slot:
    """When a message may go out: from start, and not after end (None: no deadline)."""

    start: datetime
    end: datetime | None


def send_slot(
    now: datetime,
    window: SendWindow,
    *,
    expires_at: datetime | None,
    policy: str,
    grace: timedelta | None,
) -> Slot | str:
    """Return the slot a message due now may use, or why it must not be sent at all.

    Inside the window it may go at once (until it expires); outside, the "skip" policy drops
    it and "defer" moves it to the next opening, within `grace` of it if given.
    """
    if expires_at is not None and expires_at <= now:
        return "its time has passed"
    if window.contains(now):
        # If it is not sent before the window closes, the dispatcher holds it until morning.
        return Slot(now, expires_at)
    if policy == "skip":
        return "outside the send window (quiet hours) and the shop skips such messages"
    opening = window.next_open(now)
    if expires_at is not None and expires_at <= opening:
        return "the order closes before the send window opens"
    deadline = opening + grace if grace is not None else None
    if expires_at is not None:
        deadline = min(deadline, expires_at) if deadline else expires_at
    return Slot(opening, deadline)
