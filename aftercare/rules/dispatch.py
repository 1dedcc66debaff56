"""What to do with a message whose send failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderError,
    TransientError,
)
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
