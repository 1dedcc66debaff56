"""How a failed send is recorded."""

from datetime import UTC, datetime, timedelta

import pytest

from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from aftercare.rules.dispatch import after_send_failure
from aftercare.settings import DispatchSettings

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
S = DispatchSettings(max_attempts=3, retry_backoff_minutes=5)


@pytest.mark.parametrize(
    ("error", "attempts", "outcome", "retry_in"),
    [
        (
            ProviderUnavailable("read timeout", provider="sms", maybe_processed=True),
            1,
            "unknown",
            None,
        ),
        (MalformedResponse("junk", provider="sms"), 1, "unknown", None),
        (RateLimited("throttled", provider="sms"), 1, "failed_retrying", 5),
        (RateLimited("throttled", provider="sms"), 2, "failed_retrying", 10),
        (RateLimited("throttled", provider="sms"), 3, "failed", None),
        (ProviderUnavailable("refused", provider="sms"), 1, "failed_retrying", 5),
        (RequestRejected("bad template", provider="sms"), 1, "failed", None),
        (AuthenticationError("bad key", provider="sms"), 9, "failed_retrying", 0),
    ],
)
def test_failed_send_decisions(error, attempts, outcome, retry_in):
    decision = after_send_failure(error, attempts, S, NOW)
    assert decision.outcome == outcome
    expected = None if retry_in is None else NOW + timedelta(minutes=retry_in)
    assert decision.retry_at == expected
