"""What the dispatcher decides of one message: hold it, record a failure, read a lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderError,
    TransientError,
)
from aftercare.clients.sms import SentSms
from aftercare.clock import CHINA
from aftercare.rules.send_window import SendWindow
from aftercare.settings import DispatchSettings, QuietHoursSettings


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


def send_window(quiet: QuietHoursSettings, category: str, zone: ZoneInfo) -> SendWindow:
    """Return the window a message of this category may leave in."""
    # Carriers accept promotional texts only until the earlier marketing close.
    end = quiet.marketing_end if category == "marketing" else quiet.end
    return SendWindow(quiet.start, end, zone)


@dataclass(frozen=True, slots=True)
class Hold:
    """Why a message does not leave now: deferred until a time, failed to retry, or suppressed."""

    outcome: str  # expired | deferred_quiet_hours | suppressed_... | precheck_failed
    reason: str | None = None
    until: datetime | None = None
    retry_at: datetime | None = None


def hold_at_send(
    *,
    expires_at: datetime | None,
    window: SendWindow,
    opted_out: bool,
    now: datetime,
) -> Hold | None:
    """Decide at the moment a message would leave whether it waits or never goes; None: send.

    Judged at that moment, not at the run's start: a run begun at 21:59, or a replay of a
    past day, must not text anybody at night.
    """
    if expires_at is not None and now >= expires_at:
        return Hold(
            "expired",
            reason=f"missed its send window (it expired at {expires_at:%Y-%m-%d %H:%M} UTC)",
        )
    if not window.contains(now):
        return Hold("deferred_quiet_hours", until=window.next_open(now))
    if opted_out:
        return Hold("suppressed_opted_out", reason="the buyer opted out before it was sent")
    return None


@dataclass(frozen=True, slots=True)
class Settlement:
    """What the provider's records say of a message in doubt, and what to record."""

    outcome: str  # unconfirmable | lookup_failed | confirmed_sent | requeued
    reason: str | None = None
    provider_id: str | None = None


# Texts by OAID go through the platform, which lists nothing a seller could look up.
NO_LOOKUP = (
    "whether it was sent cannot be confirmed any more (the platform offers no lookup of texts "
    "sent by OAID); not resent"
)


def settle_in_doubt(lookup: SentSms | str | None, *, listed: bool) -> Settlement:
    """Decide a message in doubt from the provider's listing of the days it may have left.

    `listed` is False when those days are past the provider's horizon; `lookup` is the
    provider's record of the send, None when it has none, or why the lookup could not tell.
    """
    if not listed:
        return Settlement("unconfirmable")
    if isinstance(lookup, str):
        return Settlement("lookup_failed", reason=lookup)
    if lookup is not None:
        return Settlement("confirmed_sent", provider_id=lookup.biz_id)
    return Settlement("requeued")
