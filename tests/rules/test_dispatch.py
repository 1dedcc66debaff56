"""How a failed send is recorded."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from aftercare.clients.sms import SentSms
from aftercare.rules.dispatch import (
    Settlement,
    after_send_failure,
    hold_at_send,
    send_window,
    settle_in_doubt,
)
from aftercare.settings import DispatchSettings, QuietHoursSettings

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


# What happens to a message at the moment it would leave (Beijing time, UTC+8).
CHINA_ZONE = ZoneInfo("Asia/Shanghai")
QUIET = QuietHoursSettings()


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=CHINA_ZONE)


@pytest.mark.parametrize(
    ("category", "moment", "expires", "opted_out", "outcome", "until"),
    [
        ("service", at(21, 59), None, False, None, None),
        ("service", at(22, 0), None, False, "deferred_quiet_hours", at(9, 0) + timedelta(days=1)),
        ("marketing", at(20, 59), None, False, None, None),
        ("marketing", at(21, 0), None, False, "deferred_quiet_hours", at(9) + timedelta(days=1)),
        ("service", at(0, 30), None, False, "deferred_quiet_hours", at(9, 0)),
        ("service", at(8, 59), None, False, "deferred_quiet_hours", at(9, 0)),
        ("service", at(12), at(12), False, "expired", None),
        # An expired message is never deferred to the morning, even at night.
        ("service", at(23), at(22), False, "expired", None),
        ("marketing", at(12), None, True, "suppressed_opted_out", None),
        # Night beats the opt-out: nothing is written off before the buyer could be asked.
        ("marketing", at(23), None, True, "deferred_quiet_hours", at(9) + timedelta(days=1)),
    ],
)
def test_a_message_is_held_by_the_moment_it_would_leave(
    category, moment, expires, opted_out, outcome, until
):
    window = send_window(QUIET, category, CHINA_ZONE)
    hold = hold_at_send(expires_at=expires, window=window, opted_out=opted_out, now=moment)
    assert (hold.outcome if hold else None) == outcome
    assert (hold.until if hold else None) == until
    if hold and hold.until is None:
        assert hold.reason  # a suppression always says why


def test_a_lookup_settles_a_message_in_doubt():
    found = SentSms(out_id="k", biz_id="B1", template_code="SMS_1", status=3)
    assert settle_in_doubt(found, listed=True) == Settlement("confirmed_sent", provider_id="B1")
    assert settle_in_doubt(None, listed=True).outcome == "requeued"
    failed = settle_in_doubt("the lookup of 2026-11-23 failed: timeout", listed=True)
    assert failed.outcome == "lookup_failed" and "timeout" in (failed.reason or "")
    # Past the provider's horizon nothing can be confirmed: never requeued, never resent.
    assert settle_in_doubt(None, listed=False).outcome == "unconfirmable"
