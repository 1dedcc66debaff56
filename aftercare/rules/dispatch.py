"""What to do with a message whose send failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderError,
    TransientError,
)
from aftercare.clock import CHINA
from aftercare.settings import DispatchSettings


@dataclass(frozen=True, slots=True)
class SendFailure:
    """The outcome to record: unknown (ask the provider first), or failed with a retry time."""

    outcome: str  # unknown | failed_retrying | failed
    retry_at: datetime | None = None


def after_send_failure(
    error: ProviderError, attempts: int, settings: DispatchSettings, now: datetime
) -> SendFailure:
    """Decide how a failed send is recorded and whether a later run tries it again."""
    if isinstance(error, MalformedResponse) or (
        isinstance(error, TransientError) and error.maybe_processed
    ):
        # The provider may have sent it: look it up before any second attempt.
        return SendFailure("unknown")
    if isinstance(error, AuthenticationError):
        # Our configuration is wrong, not the message: it goes out once the keys are fixed.
        return SendFailure("failed_retrying", now)
    if isinstance(error, TransientError) and attempts < settings.max_attempts:
        backoff = timedelta(minutes=settings.retry_backoff_minutes * attempts)
        return SendFailure("failed_retrying", now + backoff)
    return SendFailure("failed")


def lookup_days(*moments: datetime | None) -> list[date]:
    """Return the provider's (China) days on which a message attempted at these moments left.

    Each moment's next day is included: a send claimed just before midnight leaves after it.
    """
    days: set[date] = set()
    for moment in moments:
        if moment is not None:
            day = moment.astimezone(CHINA).date()
            days.update((day, day + timedelta(days=1)))
    return sorted(days)


def still_listed(days: list[date], world: datetime, horizon_days: int) -> list[date]:
    """Return the days whose sends the provider still lists (it keeps `horizon_days`)."""
    oldest = world.astimezone(CHINA).date() - timedelta(days=horizon_days - 1)
    return [day for day in days if day >= oldest]
